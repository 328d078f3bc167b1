"""Partner GTFS-realtime alert feeds → draft flags, against a local server serving protobuf
built with gtfs-realtime-bindings, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from advisor.errors import ConfigError
from advisor.feeds.partner_alerts import lease_name
from advisor.risk.model import FlagStatus, LineTarget, RiskLevel, SectionTarget, StationTarget
from advisor.services import COMMAND_LINE
from advisor.store import EntityState
from tests.clock import Clock
from tests.feeds.partner_server import Alert, PartnerServer, entity
from tests.store.apptools import app_config, tiny_dataset  # noqa: F401 - fixtures
from tests.store.databases import database_url, pg_url  # noqa: F401 - fixtures

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FEED = "uz"
LINES_TOML = """[[line]]
id = "kyiv-kharkiv"
[[line]]
id = "kyiv-sumy"
[[line]]
id = "retired-line"
"""


@pytest.fixture
def server():
    with PartnerServer() as running:
        yield running


def feed_config(tmp_path, feed_url, **feed):
    stops = tmp_path / "stops.csv"
    stops.write_text("stop_id,station_id\nP-100,kharkiv\nP-200,nowhere-station\n",
                     encoding="utf-8")
    lines = tmp_path / "lines.toml"
    lines.write_text(LINES_TOML, encoding="utf-8")
    entry = {"name": FEED, "url": feed_url, "stops": str(stops),
             "routes": {"R-1": "kyiv-kharkiv", "R-OLD": "retired-line"}, **feed}
    return {"partner_feeds": [entry], "lines": lines}


def make_app(tmp_path, tiny_dataset, database_url, url, **feed):  # noqa: F811 - fixtures
    from advisor import create_app
    from advisor.settings import _partner_feeds

    raw = feed_config(tmp_path, url, **feed)
    config = app_config(
        tmp_path, tiny_dataset, database_url, alerts_poll_in_app=False,
        lines_path=raw["lines"], partner_alert_feeds=_partner_feeds(raw["partner_feeds"]),
        alerts_timeout_seconds=1.0,
    )  # fmt: skip
    return create_app(config)


@pytest.fixture
def app(server, tmp_path, tiny_dataset, database_url):  # noqa: F811 - fixtures
    made = make_app(tmp_path, tiny_dataset, database_url, server.url)
    yield made
    made.extensions["advisor.operations"].close()


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def poller(app, clock):
    ops = app.extensions["advisor.operations"]
    ops.partner_feeds.clock = clock
    (made,) = ops.partner_feeds.pollers(app.extensions["advisor.settings"],
                                        app.extensions["advisor.services"].network)
    made.clock = clock
    return made


def partner(app):
    return app.extensions["advisor.operations"].partner_feeds


def rows(app, state=None):
    found = partner(app).store.list_entities(FEED)
    return [r for r in found if state is None or r.state is state]


def flag_of(app, row):
    return app.extensions["advisor.operations"].store.get_flag(row.flag_id)


def test_entity_becomes_a_draft_with_target_level_window_and_source(app, server, poller):
    start, end = T0 - timedelta(hours=1), T0 + timedelta(hours=5)
    server.set_alerts([
        entity("e1", stops=["P-100"], severity=Alert.SEVERE, periods=[(start, end)],
               description_en="Shelling near the station"),
        entity("e2", routes=["R-1"], effect=Alert.NO_SERVICE),
    ])  # fmt: skip
    outcome = poller.poll_once()
    assert outcome.polled and outcome.changed and not outcome.error and not outcome.problems
    by_entity = {r.entity_id: r for r in rows(app)}
    station = flag_of(app, by_entity["e1"])
    assert station.status is FlagStatus.DRAFT
    assert station.target == StationTarget("kharkiv")  # through the stop mapping
    assert station.level is RiskLevel.HIGH  # severity SEVERE
    assert (station.active_from, station.active_until) == (start, end)
    assert station.source == "uz GTFS-rt, entity e1"
    assert station.author == "partner-feed:uz"
    assert station.reason_uk == "Ремонт колії"
    assert station.reason_en == "Track works. Shelling near the station"
    line = flag_of(app, by_entity["e2"])
    assert line.target == LineTarget("kyiv-kharkiv") and line.level is RiskLevel.SUSPENDED
    assert line.active_from is None and line.active_until is None
    audit = app.extensions["advisor.operations"].store.list_audit(object_id=station.id)
    assert [(a.action, a.actor) for a in audit] == [("flag.create", "partner-feed:uz")]
    # Drafts never reach routing.
    routed = app.extensions["advisor.services"].risk_state.index.active_flags(T0)
    assert not {f.id for f in routed} & {station.id, line.id}
    health = partner(app).health.status(lease_name(FEED))
    assert health.last_success_at == T0 and not health.last_error


def test_same_feed_twice_makes_no_duplicate(app, server, poller, clock):
    server.set_alerts([entity("e1", stops=["kyiv"])])  # one of our station ids: direct
    poller.poll_once()
    (first,) = rows(app)
    clock.now = T0 + timedelta(minutes=1)
    again = poller.poll_once()  # 304: the entities read last are checked again
    assert not again.changed
    assert server.requests[-1]["headers"]["If-None-Match"]
    server.set_alerts([entity("e1", stops=["kyiv"])])  # same content, new ETag
    clock.now = T0 + timedelta(minutes=2)
    assert poller.poll_once().changed
    (row,) = rows(app)
    assert row.flag_id == first.flag_id and row.fingerprint == first.fingerprint
    assert row.last_seen_at == clock.now and row.first_seen_at == T0
    flags = app.extensions["advisor.operations"].store.list_flags()
    assert [f.id for f in flags] == [first.flag_id] and flags[0].version == 1


def test_changed_entity_updates_its_draft_or_proposes_a_new_one(app, server, poller, clock):
    ops = app.extensions["advisor.operations"]
    server.set_alerts([entity("e1", stops=["kyiv"], severity=Alert.INFO)])
    poller.poll_once()
    (row,) = rows(app)
    server.set_alerts([entity("e1", stops=["kyiv"], severity=Alert.WARNING)])
    poller.poll_once()
    draft = flag_of(app, rows(app)[0])
    assert draft.id == row.flag_id and draft.version == 2 and draft.level is RiskLevel.ELEVATED
    published = ops.publish_flag(draft.id, draft.version, COMMAND_LINE)
    server.set_alerts([entity("e1", stops=["kyiv"], severity=Alert.SEVERE)])
    poller.poll_once()
    (changed,) = rows(app)
    assert changed.flag_id != published.id and changed.previous_flag_id == published.id
    assert flag_of(app, changed).status is FlagStatus.DRAFT
    assert flag_of(app, changed).level is RiskLevel.HIGH
    assert ops.store.get_flag(published.id).status is FlagStatus.PUBLISHED  # left alone
    review = partner(app).review(COMMAND_LINE)
    assert [(i.flag.id, i.previous.id) for i in review.drafts] == [(changed.flag_id,
                                                                    published.id)]


def test_removed_entity_proposes_withdrawal_and_discards_drafts(app, server, poller, clock):
    ops = app.extensions["advisor.operations"]
    server.set_alerts([entity("pub", stops=["kyiv"]), entity("draft", routes=["R-1"])])
    poller.poll_once()
    by_entity = {r.entity_id: r for r in rows(app)}
    published = ops.publish_flag(by_entity["pub"].flag_id, 1, COMMAND_LINE)
    server.set_alerts([])
    clock.now = T0 + timedelta(minutes=5)
    poller.poll_once()
    by_entity = {r.entity_id: r for r in rows(app)}
    assert by_entity["pub"].state is EntityState.WITHDRAWAL_PROPOSED
    assert ops.store.get_flag(published.id).status is FlagStatus.PUBLISHED  # never alone
    assert by_entity["draft"].state is EntityState.CLOSED
    discarded = flag_of(app, by_entity["draft"])
    assert discarded.status is FlagStatus.WITHDRAWN
    assert "no longer in the partner feed" in ops.store.list_audit(object_id=discarded.id)[0].note
    review = partner(app).review(COMMAND_LINE)
    assert [i.flag.id for i in review.withdrawals] == [published.id] and not review.drafts
    ops.withdraw_flag(published.id, published.version, COMMAND_LINE, reason="confirmed")
    poller.poll_once()
    assert {r.entity_id: r.state for r in rows(app)}["pub"] is EntityState.CLOSED
    assert not partner(app).review(COMMAND_LINE).withdrawals


def test_ended_active_period_proposes_withdrawal(app, server, poller, clock):
    ops = app.extensions["advisor.operations"]
    server.set_alerts([entity("e1", stops=["kyiv"], periods=[(T0, T0 + timedelta(hours=1))])])
    poller.poll_once()
    (row,) = rows(app)
    ops.publish_flag(row.flag_id, 1, COMMAND_LINE)
    clock.now = T0 + timedelta(hours=2)
    assert not poller.poll_once().changed  # unchanged feed (304), but the period is over
    (row,) = rows(app)
    assert row.state is EntityState.WITHDRAWAL_PROPOSED and row.data["gone"] == "ended"


def test_unmatched_entities_are_reported_not_flagged(app, server, poller):
    server.set_alerts([
        entity("e1", stops=["P-999"]),
        entity("e2", stops=["P-200"]),  # maps to a station the network lacks
        entity("e3", routes=["R-OLD"]),  # maps to a line the network lacks
        entity("e4", trips=["T-1"]),
        entity("e5", stops=["kyiv", "P-999"]),  # half matched: a draft and a report
    ])  # fmt: skip
    outcome = poller.poll_once()
    assert "entity e1: stop_id P-999 is not in the stop mapping" in outcome.problems
    assert any("e2: stop_id P-200 maps to nowhere-station" in p for p in outcome.problems)
    assert any("e3: route_id R-OLD maps to line retired-line" in p for p in outcome.problems)
    assert any(p.startswith("entity e4: trip selectors") for p in outcome.problems)
    unmatched = {r.entity_id for r in rows(app, EntityState.UNMATCHED)}
    assert unmatched == {"e1", "e2", "e3", "e4", "e5"}
    assert all(r.flag_id is None for r in rows(app, EntityState.UNMATCHED))
    (draft,) = rows(app, EntityState.OPEN)
    assert draft.entity_id == "e5" and flag_of(app, draft).target == StationTarget("kyiv")
    review = partner(app).review(COMMAND_LINE)
    assert len(review.unmatched) == 5 and len(review.drafts) == 1


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("403", "answered HTTP 403 forbidden — the feed needs a key: set token_env for feed uz"),
        ("404", "answered HTTP 404"),
        ("500", "answered HTTP 500"),
        ("malformed", "is not GTFS-realtime protobuf"),
        ("hang", "did not answer in time"),
    ],
)
def test_feed_failures_keep_the_last_state_and_record_the_error(app, server, poller, clock,
                                                                mode, says):
    server.set_alerts([entity("e1", stops=["kyiv"])])
    poller.poll_once()
    before = rows(app)
    server.mode, server.hang_seconds = mode, 2.5
    server.set_alerts([])  # would discard the draft, were it read
    clock.now = T0 + timedelta(minutes=1)
    outcome = poller.poll_once()
    assert outcome.polled and says in outcome.error
    assert outcome.next_poll_seconds == poller.poll_seconds  # the first failure in a row
    assert rows(app) == before and flag_of(app, before[0]).status is FlagStatus.DRAFT
    health = partner(app).health.status(lease_name(FEED))
    assert says in health.last_error and health.last_success_at == T0
    assert health.last_attempt_at == clock.now and health.failures == 1
    assert poller.poll_once().next_poll_seconds == 2 * poller.poll_seconds  # backing off


def test_a_second_poller_waits_for_the_lease(app, server, poller):
    ops = app.extensions["advisor.operations"]
    (other,) = ops.partner_feeds.pollers(app.extensions["advisor.settings"],
                                         app.extensions["advisor.services"].network)
    other.clock = poller.clock
    assert poller.poll_once().polled
    assert not other.poll_once().polled


@pytest.mark.parametrize(
    ("feed", "says"),
    [
        ({"name": "Bad Name"}, "must be 1-40 lowercase letters"),
        ({"url": "ftp://x/alerts.pb"}, "must be an http(s) address"),
        ({"stops": "/no/such/stops.csv"}, "does not exist"),
        ({"routes": {"R-1": "no-such-line"}}, "R-1 -> 'no-such-line' (feed uz)"),
        ({"colour": "red"}, "unknown key(s) colour"),
        ({"token_env": "ADVISOR_PARTNER_UZ_TOKEN"},
         "partner feed 'uz': environment variable ADVISOR_PARTNER_UZ_TOKEN (its token_env) is "
         "not set"),
        ({"token_env": "UZ_TOKEN"}, "token_env 'UZ_TOKEN' must name an ADVISOR_* variable"),
        ({"header": "X-Api-Key"}, "header 'X-Api-Key' needs token_env"),
        ({"token_env": "ADVISOR_T", "header": "X Api"}, "header 'X Api' is not a header name"),
    ],
)
def test_partner_feed_settings_are_checked(tmp_path, feed, says):
    import json
    import re

    from advisor.settings import load_settings

    raw = feed_config(tmp_path, "https://partner.example/alerts.pb", **feed)
    (entry,) = raw["partner_feeds"]
    lines = [f"[network]\nlines = {json.dumps(str(raw['lines']))}\n",
             "[[alerts.partner_feeds]]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in entry.items() if key != "routes"]
    lines += ["[alerts.partner_feeds.routes]"]
    lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in entry["routes"].items()]
    config = tmp_path / "override.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_settings(environ={"ADVISOR_CONFIG": str(config)})


def test_partner_feed_settings_read_relative_paths_from_the_file(tmp_path):
    from advisor.settings import load_settings

    (tmp_path / "stops.csv").write_text("stop_id,station_id\n", encoding="utf-8")
    config = tmp_path / "override.toml"
    config.write_text('[[alerts.partner_feeds]]\nname = "uz"\n'
                      'url = "https://partner.example/a.pb"\nstops = "stops.csv"\n',
                      encoding="utf-8")  # fmt: skip
    (feed,) = load_settings(environ={"ADVISOR_CONFIG": str(config)}).partner_alert_feeds
    assert (feed.name, feed.url, feed.stop_mapping) == ("uz", "https://partner.example/a.pb",
                                                        tmp_path / "stops.csv")


def test_cli_poll_once_drafts_and_reports(server, tmp_path, tiny_dataset, monkeypatch):  # noqa: F811
    from click.testing import CliRunner

    from advisor.cli import main
    from advisor.store import PartnerFeedStore, open_store

    config = tmp_path / "override.toml"
    config.write_text(f'[[alerts.partner_feeds]]\nname = "uz"\nurl = "{server.url}"\n',
                      encoding="utf-8")  # fmt: skip
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("ADVISOR_CONFIG", str(config))
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    monkeypatch.setenv("ADVISOR_NETWORK_DATASET", str(tiny_dataset))
    monkeypatch.setenv("ADVISOR_INSTANCE_PATH", str(tmp_path / "instance"))
    server.set_alerts([entity("e1", stops=["kyiv"]), entity("e2", stops=["P-1"])])
    ok = CliRunner().invoke(main, ["partner-feeds", "poll", "--once"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines() == [
        "uz: entities changed", "  skipped: entity e2: stop_id P-1 is not in the stop mapping"]
    stored = PartnerFeedStore(open_store(url).engine).list_entities("uz")
    assert {(r.entity_id, r.state) for r in stored} == {("e1", EntityState.OPEN),
                                                       ("e2", EntityState.UNMATCHED)}
    server.mode = "500"
    failed = CliRunner().invoke(main, ["partner-feeds", "poll", "--once"])
    assert failed.exit_code == 1 and "uz: failed: partner feed" in failed.output


def test_cli_poll_refuses_without_partner_feeds(monkeypatch):
    from click.testing import CliRunner

    from advisor.cli import main

    monkeypatch.delenv("ADVISOR_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["partner-feeds", "poll", "--once"])
    assert result.exit_code != 0 and "no partner feeds configured" in result.output


def test_a_poll_stopped_before_saving_its_rows_drafts_nothing_twice(app, server, poller,
                                                                    monkeypatch):
    from advisor.errors import StoreUnavailable

    store = partner(app).store
    saved = store.save_all

    def fail(*args, **kwargs):
        raise StoreUnavailable("the store went away")

    server.set_alerts([entity("e1", stops=["kyiv"])])
    monkeypatch.setattr(store, "save_all", fail)
    assert "the store went away" in poller.poll_once().error
    assert not rows(app)  # the draft was written, its row was not
    monkeypatch.setattr(store, "save_all", saved)
    poller.poll_once()
    (row,) = rows(app)
    flags = app.extensions["advisor.operations"].store.list_flags()
    assert [f.id for f in flags] == [row.flag_id]  # the same draft, adopted


# --- a feed that needs a key ---------------------------------------------------------------

SECRET = "s3cret-partner-key-7f2a"
TOKEN_ENV = "ADVISOR_PARTNER_UZ_TOKEN"


def test_partner_feed_key_comes_from_its_variable_and_is_never_printed(tmp_path):
    from advisor.settings import load_settings

    config = tmp_path / "override.toml"
    config.write_text('[[alerts.partner_feeds]]\nname = "uz"\nurl = "https://p.example/a.pb"\n'
                      f'token_env = "{TOKEN_ENV}"\nheader = "X-Api-Key"\n', encoding="utf-8")
    settings = load_settings(environ={"ADVISOR_CONFIG": str(config), TOKEN_ENV: SECRET})
    (feed,) = settings.partner_alert_feeds
    assert (feed.token_env, feed.token) == (TOKEN_ENV, SECRET)
    assert feed.auth_headers() == {"X-Api-Key": SECRET}
    assert SECRET not in repr(settings) and SECRET not in repr(feed)


@pytest.mark.parametrize(
    ("header", "sent"),
    [(None, ("Authorization", f"Bearer {SECRET}")), ("X-Api-Key", ("X-Api-Key", SECRET))],
)
def test_a_feed_that_needs_a_key_is_polled_with_it_and_never_shows_it(
    server, tmp_path, tiny_dataset, database_url, monkeypatch, caplog, header, sent  # noqa: F811
):
    import logging

    import requests

    server.auth = sent
    server.set_alerts([entity("e1", stops=["kyiv"])])
    assert requests.get(server.url, timeout=5).status_code == 401  # no key: refused
    monkeypatch.setenv(TOKEN_ENV, "not-the-key")
    feed = {"token_env": TOKEN_ENV, **({"header": header} if header else {})}
    wrong = make_app(tmp_path, tiny_dataset, database_url, server.url, **feed)
    caplog.set_level(logging.DEBUG)
    try:
        (poller,) = partner(wrong).pollers(wrong.extensions["advisor.settings"],
                                           wrong.extensions["advisor.services"].network)
        refused = poller.poll_once()
        assert server.requests[-1]["headers"].get(sent[0]) == sent[1].replace(SECRET,
                                                                              "not-the-key")
        assert f"answered HTTP 401 unauthorized — check the token in ${TOKEN_ENV}" in refused.error
        health = partner(wrong).health.status(lease_name(FEED))
        assert health.last_error == refused.error and "not-the-key" not in health.last_error
        assert "not-the-key" not in caplog.text and not rows(wrong)
        poller.store.release_lease(poller.lease_name, poller.holder)  # the next app polls
    finally:
        wrong.extensions["advisor.operations"].close()
    monkeypatch.setenv(TOKEN_ENV, SECRET)
    app = make_app(tmp_path, tiny_dataset, database_url, server.url, **feed)
    try:
        (poller,) = partner(app).pollers(app.extensions["advisor.settings"],
                                         app.extensions["advisor.services"].network)
        outcome = poller.poll_once()
        assert outcome.polled and outcome.changed and not outcome.error
        (row,) = rows(app)
        assert flag_of(app, row).target == StationTarget("kyiv")
        health = partner(app).health.status(lease_name(FEED))
        assert not health.last_error and SECRET not in caplog.text
        assert SECRET not in repr(app.extensions["advisor.settings"])
    finally:
        app.extensions["advisor.operations"].close()


# --- two stops on one route: a section ----------------------------------------------------


@pytest.mark.parametrize(
    "made",
    [
        # the route in both stop selectors (P-100 is kharkiv through the stop mapping)
        entity("s1", stop_routes=[("P-100", "R-1"), ("kyiv", "R-1")]),
        # the route in a third selector of the alert
        entity("s1", stops=["P-100", "kyiv"], routes=["R-1"]),
        # one stop names it, a third selector names the same route
        entity("s1", stop_routes=[("P-100", "R-1")], stops=["kyiv"], routes=["R-1"]),
    ],
)
def test_two_stops_on_one_route_become_one_section_draft(app, server, poller, made):
    server.set_alerts([made])
    outcome = poller.poll_once()
    assert not outcome.error and not outcome.problems
    (row,) = rows(app)
    assert row.part == "section:kyiv-kharkiv:kyiv:kharkiv" and row.state is EntityState.OPEN
    draft = flag_of(app, row)
    # In the line's order (Kyiv first), whatever the partner's order.
    assert draft.target == SectionTarget("kyiv-kharkiv", "kyiv", "kharkiv")
    assert draft.status is FlagStatus.DRAFT and "section_fallback" not in row.data
    poller.poll_once()  # unchanged: no second draft
    assert [r.flag_id for r in rows(app)] == [row.flag_id]
    assert len(app.extensions["advisor.operations"].store.list_flags()) == 1


def test_a_stop_pair_off_the_line_falls_back_to_stations_and_says_why(app, server, poller):
    server.set_alerts([
        entity("s2", stops=["kyiv", "sumy"], routes=["R-1"]),  # Sumy is not on kyiv-kharkiv
        entity("s3", stop_routes=[("kyiv", "R-1"), ("kharkiv", "R-9")]),  # two routes
    ])  # fmt: skip
    poller.poll_once()
    s2 = {r.part: r for r in rows(app) if r.entity_id == "s2"}
    assert set(s2) == {"station:kyiv", "station:sumy", "line:kyiv-kharkiv"}
    assert {flag_of(app, r).target for r in s2.values()} == {
        StationTarget("kyiv"), StationTarget("sumy"), LineTarget("kyiv-kharkiv")}
    why = s2["station:sumy"].data["section_fallback"]
    assert why == ("stops kyiv and sumy on route_id R-1: sumy not on line kyiv-kharkiv; "
                   "flagged as stations")
    s3 = {r.part for r in rows(app) if r.entity_id == "s3"}
    assert s3 == {"station:kyiv", "station:kharkiv"}  # not one route: stations, as before
    assert all("section_fallback" not in r.data for r in rows(app) if r.entity_id == "s3")


def test_a_stop_pair_on_an_unmapped_route_falls_back_to_stations(app, server, poller):
    server.set_alerts([entity("s4", stop_routes=[("kyiv", "R-OLD"), ("kharkiv", "R-OLD")])])
    poller.poll_once()
    found = {r.part: r for r in rows(app)}
    assert set(found) == {"station:kyiv", "station:kharkiv"}
    assert "maps to line retired-line, not on the network; flagged as stations" in found[
        "station:kyiv"].data["section_fallback"]


def test_a_key_under_its_own_header_is_not_carried_across_a_redirect(server):
    from advisor.feeds.partner_alerts import PartnerFeedClient, PartnerFeedFailed

    moved = server.url.replace("/alerts.pb", "/moved.pb")
    keyed = PartnerFeedClient(FEED, moved, auth_headers={"X-Api-Key": SECRET},
                              token_env=TOKEN_ENV)  # fmt: skip
    with pytest.raises(PartnerFeedFailed, match="redirects to") as failed:
        keyed.fetch(conditional=False)
    assert SECRET not in failed.value.message
    assert [r["path"] for r in server.requests] == ["/moved.pb"]  # not followed
    bearer = PartnerFeedClient(FEED, moved, auth_headers={"Authorization": f"Bearer {SECRET}"})
    assert bearer.fetch(conditional=False)  # requests drops Authorization off the host itself
    keyed.close()
    bearer.close()
