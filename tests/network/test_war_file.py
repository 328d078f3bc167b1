"""The shipped war geography file: newest map, dated, attributed, checksummed, rebuildable."""

from __future__ import annotations

import hashlib

import pytest

from advisor.errors import DataError
from advisor.network.war import build_war_geography, newest_map, read_war_geography
from advisor.settings import Settings


@pytest.fixture(scope="module")
def shipped():
    return read_war_geography(Settings().war_geography_path)


def test_shipped_file_names_its_map_source_and_licence(shipped):
    assert shipped["map_date"] == "2026-08-22" and shipped["source"] == "DeepStateMap"
    assert "GPL-3.0" in shipped["licence"]
    assert shipped["attribution"] == "Occupied territory: DeepStateMap, map of 2026-08-22"
    assert {f["properties"]["neighbour"] for f in shipped["borders"]["features"]} == {"RU", "BY"}


def test_shipped_file_matches_a_fresh_build(shipped):
    sources = Settings().network_sources
    if not (sources / "war").is_dir():
        pytest.skip(f"raw sources not present at {sources}")
    fresh = build_war_geography(sources)
    assert fresh == shipped, "run `advisor network build`"
    raw = (sources / "war" / fresh["source_file"]).read_bytes()
    assert fresh["source_sha256"] == hashlib.sha256(raw).hexdigest()


def test_newest_map_is_taken_by_date(tmp_path):
    for day in ("2026-02-01", "2026-08-22", "2025-12-31"):
        (tmp_path / f"occupied_{day}.geojson").write_text("{}")
    (tmp_path / "occupied_latest.geojson").write_text("{}")
    path, day = newest_map(tmp_path)
    assert path.name == "occupied_2026-08-22.geojson" and day.isoformat() == "2026-08-22"


def test_missing_maps_and_bad_files_are_named(tmp_path):
    with pytest.raises(DataError, match=r"no occupied_YYYY-MM-DD\.geojson map"):
        newest_map(tmp_path)
    bad = tmp_path / "war.json.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(DataError, match="cannot read the war geography file"):
        read_war_geography(bad)
