"""A gazetteer of UK places that name one counter-terrorism policing region unambiguously.

Curated from the force areas listed in `pipeline.enrich.regions`: the nations, the police
force areas and ceremonial counties, cities, large towns, London boroughs and well-known
London districts, each placed in the region of the force that polices it. Names shared by
places in different regions, or commonly meaning somewhere abroad, are left out on
purpose so that they yield no region: Newport (Wales, Isle of Wight, Shropshire), Richmond
(London, North Yorkshire), Kingston (London, Hull), Gillingham (Kent, Dorset), Bangor
(Wales, Northern Ireland), Ashford (Kent, Surrey), St Ives (Cornwall, Cambridgeshire),
Stratford (London, Warwickshire), Sutton, Washington, Wellington, Boston, Perth,
Christchurch, Hamilton, Newtown and Edmonton; so are names that are mostly something else
(March, Sandwich, Victoria, Barry). Names are lower case and separated by ";", in the form
`pipeline.enrich.places.place_key` gives them.
"""

from __future__ import annotations

from pipeline.enrich import regions as r

__all__ = ["PLACES_BY_REGION"]

PLACES_BY_REGION: dict[str, str] = {
    r.LONDON: """
        london; greater london; city of london; westminster; camden; islington; hackney; tower
        hamlets; newham; southwark; lambeth; wandsworth; hammersmith; fulham; kensington;
        chelsea; brent; ealing; hounslow; hillingdon; harrow; barnet; enfield; haringey; waltham
        forest; redbridge; barking; dagenham; havering; romford; bexley; greenwich; lewisham;
        bromley; croydon; merton; wimbledon; twickenham; brixton; peckham; shoreditch;
        whitechapel; stepney; bethnal green; mile end; poplar; canary wharf; soho; mayfair;
        holborn; paddington; marylebone; euston; king's cross; kings cross; st pancras;
        waterloo; clapham; battersea; tooting; streatham; walthamstow; leyton; tottenham;
        wembley; willesden; kilburn; acton; southall; uxbridge; heathrow; ilford;
        woolwich; deptford; catford; camberwell; finsbury park; stoke newington; dalston;
        notting hill; white city; shepherd's bush; shepherds bush; oxford street; trafalgar
        square; whitehall; scotland yard; new scotland yard; downing street; london bridge;
        westminster bridge
    """,
    r.NORTH_EAST: """
        yorkshire; west yorkshire; south yorkshire; north yorkshire; east yorkshire; east riding
        of yorkshire; humberside; cleveland; county durham; durham; northumberland; northumbria;
        tyne and wear; teesside; leeds; bradford; wakefield; huddersfield; halifax; dewsbury;
        batley; keighley; kirklees; calderdale; sheffield; rotherham; barnsley; doncaster; york;
        harrogate; scarborough; whitby; selby; skipton; ripon; northallerton; hull; kingston
        upon hull; grimsby; scunthorpe; goole; bridlington; middlesbrough; hartlepool;
        stockton-on-tees; stockton on tees; redcar; darlington; newcastle upon tyne;
        newcastle-upon-tyne; gateshead; sunderland; south shields; north shields; tynemouth;
        jarrow; blyth; morpeth; hexham; cramlington; ashington; consett; bishop auckland;
        chester-le-street; peterlee; seaham; pontefract; castleford; ossett; pudsey; otley;
        ilkley; shipley; brighouse
    """,
    r.NORTH_WEST: """
        greater manchester; merseyside; lancashire; cumbria; cheshire; manchester; salford;
        trafford; stockport; oldham; rochdale; bolton; bury; wigan; tameside; ashton-under-lyne;
        ashton under lyne; stretford; altrincham; liverpool; birkenhead; wirral; st helens;
        knowsley; sefton; bootle; southport; preston; blackburn; blackpool; burnley; lancaster;
        morecambe; chorley; accrington; fleetwood; lytham st annes; ormskirk; skelmersdale;
        carlisle; barrow-in-furness; barrow in furness; kendal; workington; whitehaven; penrith;
        chester; crewe; warrington; widnes; runcorn; macclesfield; ellesmere port; northwich;
        wilmslow; congleton; nantwich; deansgate; moss side; cheetham hill; ancoats; toxteth;
        anfield
    """,
    r.WEST_MIDLANDS: """
        west midlands; staffordshire; warwickshire; west mercia; shropshire; worcestershire;
        herefordshire; birmingham; coventry; wolverhampton; dudley; walsall; west bromwich;
        sandwell; solihull; sutton coldfield; smethwick; oldbury; halesowen; stourbridge;
        stoke-on-trent; stoke on trent; stafford; tamworth; burton upon trent; burton-on-trent;
        lichfield; cannock; newcastle-under-lyme; leek; warwick; leamington spa; royal
        leamington spa; nuneaton; rugby; kenilworth; stratford-upon-avon; stratford upon avon;
        worcester; redditch; kidderminster; bromsgrove; malvern; evesham; hereford; shrewsbury;
        telford; oswestry; ludlow; bridgnorth; sparkhill; small heath; handsworth; edgbaston;
        erdington; digbeth; alum rock
    """,
    r.EAST_MIDLANDS: """
        east midlands; derbyshire; leicestershire; lincolnshire; northamptonshire;
        nottinghamshire; rutland; derby; chesterfield; buxton; glossop; matlock; ilkeston; long
        eaton; swadlincote; leicester; loughborough; hinckley; melton mowbray; market
        harborough; coalville; oakham; lincoln; grantham; skegness; spalding; stamford;
        gainsborough; louth; sleaford; northampton; kettering; corby; wellingborough; daventry;
        rushden; nottingham; mansfield; newark; newark-on-trent; worksop; retford; beeston;
        hucknall
    """,
    r.EASTERN: """
        east of england; east anglia; bedfordshire; cambridgeshire; essex; hertfordshire;
        norfolk; suffolk; bedford; luton; dunstable; leighton buzzard; cambridge; peterborough;
        huntingdon; ely; wisbech; st neots; chelmsford; colchester; southend-on-sea; southend;
        basildon; harlow; brentwood; braintree; clacton-on-sea; clacton; billericay; grays;
        thurrock; canvey island; epping; loughton; witham; stansted; watford; st albans;
        stevenage; hemel hempstead; hatfield; welwyn garden city; hitchin; letchworth; hertford;
        bishop's stortford; bishops stortford; borehamwood; cheshunt; norwich; great yarmouth;
        king's lynn; kings lynn; thetford; cromer; dereham; ipswich; lowestoft; bury st edmunds;
        felixstowe; sudbury; haverhill; newmarket
    """,
    r.SOUTH_EAST: """
        south east england; thames valley; hampshire; isle of wight; kent; surrey; sussex; east
        sussex; west sussex; berkshire; buckinghamshire; oxfordshire; oxford; reading; slough;
        milton keynes; high wycombe; aylesbury; banbury; bicester; abingdon; didcot; witney;
        maidenhead; windsor; bracknell; newbury; wokingham; amersham; marlow; southampton;
        portsmouth; winchester; basingstoke; andover; eastleigh; fareham; gosport; havant;
        aldershot; farnborough; petersfield; alton; lymington; ryde; cowes; shanklin; sandown;
        canterbury; maidstone; dover; folkestone; margate; ramsgate; broadstairs; chatham;
        rochester; medway; gravesend; dartford; sevenoaks; tonbridge; tunbridge wells; royal
        tunbridge wells; sittingbourne; faversham; whitstable; herne bay; guildford; woking;
        epsom; redhill; reigate; camberley; farnham; staines; weybridge; leatherhead; dorking;
        godalming; brighton; hove; brighton and hove; crawley; worthing; eastbourne; hastings;
        bognor regis; chichester; horsham; lewes; bexhill; littlehampton; haywards heath;
        burgess hill; gatwick
    """,
    r.SOUTH_WEST: """
        south west england; avon; somerset; avon and somerset; devon; cornwall; dorset;
        gloucestershire; wiltshire; bristol; bath; weston-super-mare; weston super mare;
        taunton; yeovil; bridgwater; frome; glastonbury; wells; minehead; exeter; plymouth;
        torquay; paignton; torbay; barnstaple; newton abbot; exmouth; tiverton; bideford; truro;
        falmouth; penzance; newquay; st austell; bodmin; camborne; redruth; bournemouth; poole;
        weymouth; dorchester; bridport; shaftesbury; gloucester; cheltenham; stroud;
        cirencester; tewkesbury; swindon; salisbury; chippenham; trowbridge; devizes;
        marlborough; warminster; melksham
    """,
    r.WALES: """
        wales; cymru; south wales; north wales; gwent; dyfed; powys; dyfed-powys; cardiff;
        swansea; wrexham; st davids; st asaph; caerphilly; pontypridd; merthyr tydfil; bridgend;
        neath; port talbot; llanelli; carmarthen; aberystwyth; haverfordwest; pembroke; milford
        haven; tenby; cardigan; brecon; llandrindod wells; welshpool; abergavenny; monmouth;
        chepstow; cwmbran; pontypool; ebbw vale; tredegar; llandudno; colwyn bay; rhyl;
        prestatyn; conwy; caernarfon; holyhead; anglesey; flint; denbigh; ruthin; aberdare;
        rhondda; penarth; maesteg
    """,
    r.SCOTLAND: """
        scotland; glasgow; edinburgh; aberdeen; dundee; inverness; stirling; falkirk; paisley;
        east kilbride; livingston; cumbernauld; kirkcaldy; dunfermline; ayr; kilmarnock;
        motherwell; coatbridge; airdrie; greenock; glenrothes; irvine; dumfries; st andrews;
        fort william; oban; elgin; peterhead; fraserburgh; arbroath; montrose; forfar; thurso;
        kirkwall; lerwick; stornoway; portree; galashiels; hawick; clydebank; dumbarton;
        renfrew; rutherglen; bearsden; musselburgh; dalkeith; leith; fife; lanarkshire;
        ayrshire; highlands; scottish borders; orkney; shetland; aberdeenshire; argyll
    """,
    r.NORTHERN_IRELAND: """
        northern ireland; ulster; belfast; derry; londonderry; lisburn; newry; armagh;
        craigavon; portadown; lurgan; ballymena; newtownabbey; carrickfergus; larne; coleraine;
        omagh; enniskillen; dungannon; strabane; antrim; downpatrick; holywood; banbridge;
        magherafelt; cookstown; ballymoney; limavady; county antrim; county armagh; county
        tyrone; county fermanagh; county down; county londonderry
    """,
}
