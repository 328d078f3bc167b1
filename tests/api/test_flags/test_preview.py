"""``POST /flags/preview``: coverage and which important pairs lose their best rail option."""

from __future__ import annotations

from tests.routing.checks import ask
from tests.store.factories import flag_data


def _preview(client, headers, **overrides):
    data = flag_data(**overrides)
    data.pop("status")
    return client.post("/api/v1/flags/preview", json=data, headers=headers)


def test_line_flag_costs_dnipro_zaporizhzhia_its_rail_and_recommends_the_bus(client, tokens):
    resp = _preview(client, tokens.operator,
                    target={"kind": "line", "line_id": "dnipro-zaporizhzhia"})
    assert resp.status_code == 200, resp.get_json()
    impact = resp.get_json()
    assert impact["covers"]["line_ids"] == ["dnipro-zaporizhzhia"]
    assert set(impact["covers"]["station_ids"]) >= {"dnipro", "zaporizhzhia"}
    pairs = {(p["from"]["id"], p["to"]["id"]): p for p in impact["pairs"]}
    hit = pairs[("dnipro", "zaporizhzhia")]
    assert hit["loses_best_rail"] is True
    assert hit["rail_before"]["modes"] == ["rail"] and hit["rail_after"] is None
    assert "bus" in hit["recommended_after"]["modes"]
    assert hit["recommended_after"]["travel_minutes_estimated"] is True
    assert pairs[("kyiv", "kharkiv")]["loses_best_rail"] is False
    assert impact["pairs_losing_rail"] == [["dnipro", "zaporizhzhia"]]


def test_pairs_missing_from_the_network_are_reported_not_dropped(client, tokens):
    impact = _preview(client, tokens.operator).get_json()
    missing = [p for p in impact["pairs"] if p["to"]["id"] == "nowhere"]
    assert missing and missing[0]["checked"] is False and "nowhere" in missing[0]["note"]


def test_preview_stores_nothing_and_changes_no_routing(flag_app, client, tokens):
    services = flag_app.extensions["advisor.services"]
    before = ask(services, "dnipro", "zaporizhzhia").recommended.modes
    _preview(client, tokens.operator, target={"kind": "line", "line_id": "dnipro-zaporizhzhia"})
    assert ask(services, "dnipro", "zaporizhzhia").recommended.modes == before
    assert client.get("/api/v1/flags?status=draft", headers=tokens.viewer).get_json()["count"] == 0


def test_preview_needs_a_token_and_validates_like_create(client, tokens):
    assert _preview(client, {}).status_code == 401
    resp = _preview(client, tokens.viewer, target={"kind": "line", "line_id": "nope"})
    assert resp.status_code == 422 and resp.get_json()["code"] == "unknown-line"


def test_pairs_may_name_places_which_search_resolves(flag_app, tmp_path, client, tokens):
    pairs = tmp_path / "named.toml"
    pairs.write_text('pairs = [["Київ", "Kramatorsk"]]\n', encoding="utf-8")
    ops = flag_app.extensions["advisor.operations"]
    ops.settings = ops.settings.with_overrides(important_pairs_path=pairs)
    impact = _preview(client, tokens.operator,
                      target={"kind": "line", "line_id": "lozova-kramatorsk"}).get_json()
    (pair,) = impact["pairs"]
    assert (pair["from"]["id"], pair["to"]["id"], pair["checked"]) == ("kyiv", "kramatorsk", True)
    assert pair["loses_best_rail"] is True


def test_preview_lists_the_options_passengers_see_without_a_recommendation(client, tokens):
    body = {"level": "high", "target": {"kind": "station", "station_id": "sumy"},
            "reason_en": "Strikes", "source": "test"}  # fmt: skip
    impact = client.post("/api/v1/flags/preview", json=body, headers=tokens.viewer).get_json()
    (pair,) = [p for p in impact["pairs"] if p["to"]["id"] == "sumy"]
    assert pair["recommended_after"] is None and pair["changes"] is True
    assert [o["verdict"] for o in pair["options_after"]] == ["not_advised", "not_advised"]
