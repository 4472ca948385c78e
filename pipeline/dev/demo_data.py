"""Word pools for the demo stream: UK places, fictional numbers, names and sentence templates.

Phone numbers come from Ofcom's ranges reserved for drama (07700 900xxx, 020 7946 0xxx,
0161 496 0xxx ...), email and web domains from the reserved example.* names, so nothing
generated can reach a real person.
"""

from __future__ import annotations

# (town, postcode, lat, lon)
PLACES: tuple[tuple[str, str, float, float], ...] = (
    ("Westminster", "SW1A 1AA", 51.501, -0.142),
    ("Manchester", "M1 1AE", 53.477, -2.236),
    ("Birmingham", "B1 1BB", 52.478, -1.909),
    ("Leeds", "LS1 4DY", 53.796, -1.548),
    ("Glasgow", "G1 1XQ", 55.861, -4.250),
    ("Edinburgh", "EH1 1YZ", 55.950, -3.188),
    ("Cardiff", "CF10 1EP", 51.480, -3.180),
    ("Aberystwyth", "SY23 2AX", 52.415, -4.083),
    ("Belfast", "BT1 5GS", 54.597, -5.930),
    ("Bristol", "BS1 4DJ", 51.455, -2.592),
    ("Newcastle upon Tyne", "NE1 7RU", 54.973, -1.614),
    ("Nottingham", "NG1 5FS", 52.954, -1.150),
    ("Norwich", "NR2 1NH", 52.630, 1.297),
    ("Brighton", "BN1 1UG", 50.822, -0.138),
    ("Liverpool", "L1 8JQ", 53.404, -2.985),
    ("Sheffield", "S1 2HH", 53.381, -1.470),
    ("Luton", "LU1 2EY", 51.879, -0.417),
    ("Plymouth", "PL1 1EA", 50.371, -4.142),
    ("Stratford", "E15 1XQ", 51.542, -0.003),
    ("Milton Keynes", "MK9 3EP", 52.041, -0.759),
)
LANDMARKS = (
    "the railway station",
    "the bus station",
    "the shopping centre",
    "the stadium",
    "the market hall",
    "the community centre",
    "the multi-storey car park",
    "the canal towpath",
    "the retail park",
    "the ferry terminal",
    "the town hall",
    "the university library",
    "the hospital entrance",
    "the petrol station on the ring road",
)
PEOPLE = (
    "Rhys Llywelyn",
    "Siân Evans",
    "Mohammed Al-Farsi",
    "Aisha Rahman",
    "Tomasz Nowak",
    "Chloe Okafor",
    "Callum MacLeod",
    "Priya Patel",
    "Daniel O'Neill",
    "Fatima Hussain",
    "Gareth Jones",
    "Niamh Kelly",
    "Oliver Bennett",
    "Yusuf Demir",
    "Hannah Clarke",
)
ORGS = (
    "Network Rail",
    "Transport for London",
    "Leeds City Council",
    "the NHS trust",
    "Royal Mail",
    "the student union",
    "Stagecoach",
    "a local mosque committee",
    "the parish council",
    "British Transport Police",
)
# (area code as dialled, fictional local block) for landlines.
LANDLINES = (
    ("020", "7946 0"),
    ("0161", "496 0"),
    ("0121", "496 0"),
    ("0113", "496 0"),
    ("0141", "496 0"),
    ("029", "2018 0"),
    ("028", "9018 0"),
    ("0117", "496 0"),
)
HANDLES = (
    "@nightwatch_uk",
    "@TrueVoice88",
    "@the_real_gaz",
    "@northern.lights",
    "@Brum_Lad_21",
    "@Cymru_am_byth",
    "@freedomposter",
    "@anon_poster_7",
)
PLATFORMS = ("YouTube", "Telegram", "X", "TikTok", "Facebook", "a gaming forum", "Discord")
VIDEO_IDS = ("dQw4w9WgXcQ", "a1B2c3D4e5F", "Zx9Yw8Vu7Ts", "Qq1Ww2Ee3Rr")

PUBLIC_OPENERS = (
    "I want to report something I saw near {landmark} in {town}.",
    "This is probably nothing but I was told to report it.",
    "On my way to work this morning I noticed something odd at {landmark}.",
    "Hi, I live near {landmark} in {town} and I'm worried about what I've seen.",
)
HOTLINE_OPENERS = (
    "Caller reports suspicious behaviour near {landmark}, {town}.",
    "Caller, who did not want to give a name, describes repeated visits to {landmark}.",
    "Call transferred from 101. Caller is a shop worker in {town}.",
)
REFERRAL_OPENERS = (
    "Content found on {platform} appears to encourage violence.",
    "Referral from a moderation team about a {platform} channel.",
    "A member of the public flagged this post on {platform}.",
)
CONCERN_OPENERS = (
    "A teacher is concerned about a pupil in year 11 at a school in {town}.",
    "A GP raised a concern about a patient who has become withdrawn and angry.",
    "A youth worker in {town} reports a change in a young person's views.",
)
SENTENCES = (
    "A white van, registration {vehicle}, has been parked there for three days.",
    "A man was taking photographs of the entrances and the security cameras.",
    "Two people were seen going in and out of {landmark} late at night carrying heavy bags.",
    "The car, a dark blue hatchback {vehicle}, left quickly when staff approached.",
    "They can be reached on {phone} if you need more detail.",
    "My contact number is {phone}.",
    "The same person posts as {handle} and shares videos like {url}.",
    "There is a link being passed around: {url}",
    "An email address, {email}, was written on a note left at {landmark}.",
    "I think the man's name is {person} but I am not certain.",
    "{person} said they had seen him before near {postcode}.",
    "Staff from {org} also noticed this and told their manager.",
    "It happened at about {hour} o'clock, near postcode {postcode}.",
    "The group seemed to be timing how long the security patrol took.",
    "Someone asked detailed questions about deliveries and where lorries unload.",
    "I didn't want to ring 999 because nobody was in immediate danger.",
    "The posts mention the {town} area and use language about 'taking action'.",
    "A second vehicle, {vehicle}, arrived later and the driver stayed inside.",
    "Please contact {email} or call {phone}; they are happy to help.",
    "The account {handle} has been sending messages to teenagers.",
    "Someone wrote <script>alert('x')</script> AND title:(bomb OR attack) in the comments.",
    "He was wearing a grey hoodie and spoke with a local accent.",
    "The caller was calm and clear and gave a good description.",
    "Diolch am wrando, I hope this helps. 🙏",
    "One post was in Arabic: الله أعلم, which the referrer could not translate further.",
    "It may be linked to graffiti that appeared on the bridge last week.",
    "I have screenshots and can send them if needed.",
    "The referral was escalated by {org} after internal review.",
)
GREETINGS = ("Hello, ", "Hi there. ", "Good morning, ", "To whom it may concern, ")
