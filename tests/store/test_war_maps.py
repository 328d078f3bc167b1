"""War map versions in the store (SQLite and PostgreSQL): import, validation, rollback, audit,
the change stamp every worker polls, and the outage snapshot keeping the map in force."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box, mapping

from advisor.errors import DataError, NotFound
from advisor.risk.model import RiskLevel
from advisor.services import Services
from advisor.settings import Settings, load_settings
from advisor.store import StoreFlagSource
from advisor.store.snapshot import FlagSnapshot, SnapshotFlagSource
from advisor.war_maps import WarLayers, import_war_map, rollback_war_map

WAR_DIR = Path(Settings().network_sources) / "war"
AUGUST = WAR_DIR / "occupied_2026-08-22.geojson"
FEBRUARY = WAR_DIR / "occupied_2026-02-01.geojson"


@pytest.fixture(scope="module")
def layers():
    return WarLayers(Settings())


def _raw(path: Path) -> bytes:
    if not path.exists():
        pytest.skip(f"raw war maps not present at {WAR_DIR}")
    return path.read_bytes()


def _geojson(geometry) -> bytes:
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def _import(store, layers, network, raw, origin, **kw):
    return import_war_map(store, layers, network, raw, origin, actor="ops", **kw)


def test_import_stores_a_version_audited_and_bumps_the_stamp(store, layers, tiny_network):
    stamp = store.flags_stamp()
    result = _import(store, layers, tiny_network, _raw(FEBRUARY), FEBRUARY.name)
    assert result.record.version == 1 and result.record.active
    assert result.record.map_date == "2026-02-01" and result.record.source == "DeepStateMap"
    assert store.flags_stamp() > stamp
    assert store.find_active_war_map().checksum == result.war_map.checksum
    entry = store.list_audit(object_id="1")[0]
    assert entry.action == "war_map.import" and entry.actor == "ops"
    assert entry.after["map_date"] == "2026-02-01" and "geometry" not in entry.after


def test_rollback_puts_the_previous_map_back(store, layers, tiny_network):
    _import(store, layers, tiny_network, _raw(FEBRUARY), FEBRUARY.name)
    _import(store, layers, tiny_network, _raw(AUGUST), AUGUST.name)
    assert store.find_active_war_map().map_date == "2026-08-22"
    stamp = store.flags_stamp()
    rollback_war_map(store, 1, actor="ops")
    assert store.find_active_war_map().map_date == "2026-02-01"
    assert store.flags_stamp() > stamp
    assert [(v.version, v.active) for v in store.list_war_maps()] == [(2, False), (1, True)]
    assert store.list_audit(object_id="1")[0].action == "war_map.rollback"
    with pytest.raises(NotFound, match="no war map version 9"):
        rollback_war_map(store, 9, actor="ops")


def test_dry_run_stores_nothing(store, layers, tiny_network):
    result = _import(store, layers, tiny_network, _raw(FEBRUARY), FEBRUARY.name, dry_run=True)
    assert result.record is None and store.list_war_maps() == []
    assert result.area_change_share > 0


KYIV_BOX = mapping(box(30.0, 50.0, 31.0, 51.0))


@pytest.mark.parametrize(
    ("raw", "origin", "words"),
    [(b"<html>not json</html>", "x.geojson", "is not JSON"),
     (json.dumps({"hello": 1}).encode(), "x.geojson", "not a GeoJSON object"),
     (_geojson({"type": "Point", "coordinates": [30, 50]}), "x.geojson",
      "holds a Point; only Polygon or MultiPolygon"),
     (_geojson(mapping(box(2.0, 48.0, 3.0, 49.0))), "x.geojson", "outside Ukraine's bounding box"),
     (_geojson(mapping(box(50.0, 30.0, 51.0, 31.0))), "x.geojson", "outside Ukraine"),
     (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "x.geojson",
      "no geometry"),
     (_geojson({"type": "Polygon", "coordinates": []}), "x.geojson", "empty"),
     (_geojson(KYIV_BOX), "x.geojson", "date is not in its name")],
)  # fmt: skip
def test_bad_map_files_are_refused_and_the_map_in_force_stays(
    store, layers, tiny_network, raw, origin, words
):
    before = _import(store, layers, tiny_network, _raw(FEBRUARY), FEBRUARY.name).record
    with pytest.raises(DataError, match=words):
        _import(store, layers, tiny_network, raw, origin)
    assert store.find_active_war_map().version == before.version
    assert len(store.list_war_maps()) == 1


def test_a_large_area_change_needs_force(store, layers, tiny_network):
    _import(store, layers, tiny_network, _raw(FEBRUARY), FEBRUARY.name)
    shrunk = _geojson(KYIV_BOX)  # a square near Kyiv: nothing like the map in force
    with pytest.raises(DataError, match=r"changes by \d+% .* then import it with --force"):
        _import(store, layers, tiny_network, shrunk, "occupied_2026-09-01.geojson")
    assert store.find_active_war_map().map_date == "2026-02-01"
    forced = _import(store, layers, tiny_network, shrunk, "occupied_2026-09-01.geojson",
                     force=True)
    assert forced.record.active and forced.area_change_share > 0.15


def test_the_same_map_again_is_refused(store, layers, tiny_network):
    with pytest.raises(DataError, match="already in force"):  # the shipped map
        _import(store, layers, tiny_network, _raw(AUGUST), AUGUST.name)
    _import(store, layers, tiny_network, _raw(FEBRUARY), FEBRUARY.name)
    with pytest.raises(DataError, match="already in force"):
        _import(store, layers, tiny_network, _raw(FEBRUARY), FEBRUARY.name)


def test_every_worker_routes_with_the_imported_map(store, layers, shipped_network, tmp_path):
    """A second process's Services sees the import on its next refresh, like a flag publish."""
    settings = load_settings({"instance_path": tmp_path})
    worker = Services(settings, network=shipped_network, flag_source=StoreFlagSource(store))
    huliaipole = "osm-node-3385259666"  # high on the February map, occupied in August
    assert worker.refresh_flags().war_layer.station_level(huliaipole) is RiskLevel.SUSPENDED
    _import(store, layers, shipped_network, _raw(FEBRUARY), FEBRUARY.name)
    state = worker.refresh_flags()
    assert state.war_layer.war_map.map_date.isoformat() == "2026-02-01"
    assert state.war_layer.station_level(huliaipole) is RiskLevel.HIGH
    at = datetime(2026, 9, 1, tzinfo=UTC)
    assert max(f.level for f in state.index.flags_at_station(huliaipole, at)) is RiskLevel.HIGH


def test_the_outage_snapshot_keeps_the_imported_map(store, layers, shipped_network, tmp_path):
    _import(store, layers, shipped_network, _raw(FEBRUARY), FEBRUARY.name)
    snapshot = FlagSnapshot(tmp_path / "flags-snapshot.json")
    SnapshotFlagSource(StoreFlagSource(store), snapshot).load_flags()
    saved = snapshot.read()
    assert saved.war_map is not None and saved.war_map.map_date == "2026-02-01"

    class Down:
        store = None
        war_map = None

        def load_flags(self):
            from advisor.errors import StoreUnavailable

            raise StoreUnavailable("down")

    settings = load_settings({"instance_path": tmp_path})
    source = SnapshotFlagSource(Down(), snapshot)
    state = Services(settings, network=shipped_network, flag_source=source).refresh_flags()
    assert not state.available and state.war_layer.war_map.map_date.isoformat() == "2026-02-01"
