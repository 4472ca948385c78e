"""The map's drawing: one tile per regional unit, none overlapping, all inside the grid."""

from __future__ import annotations

import itertools

from test_api_web_alerts_units import js_list

from pipeline.enrich.regions import REGIONS

COLUMNS, ROWS = 4, 5  # map.js draws a 4 x 5 grid


def test_the_map_draws_the_eleven_regional_units_once_each() -> None:
    units = js_list("map.js", "MAP_UNITS")
    assert sorted(str(unit[0]) for unit in units) == sorted(REGIONS)


def test_no_two_tiles_overlap_and_every_tile_fits_the_grid() -> None:
    cells: dict[str, set[tuple[int, int]]] = {}
    for name, col, row, wide, high in js_list("map.js", "MAP_UNITS"):
        assert col >= 0 and col + wide <= COLUMNS and row >= 0 and row + high <= ROWS, name
        cells[name] = {(c, r) for c in range(col, col + wide) for r in range(row, row + high)}
    for (a, mine), (b, theirs) in itertools.combinations(cells.items(), 2):
        assert not mine & theirs, f"{a} overlaps {b}"
