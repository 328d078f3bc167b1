"""The console's partner-feed review: drafts from a partner GTFS-realtime feed (served by a
local server) are listed with what they matched, previewed and published; a withdrawal
proposal is confirmed through the usual withdraw page or kept."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from advisor.risk.model import FlagStatus
from advisor.settings import PartnerFeed
from advisor.store import EntityState
from tests.feeds.partner_server import Alert, PartnerServer, entity
from tests.operator.conftest import Console, make_console_app
from tests.store.apptools import tiny_dataset  # noqa: F401 - fixture


@pytest.fixture
def server():
    with PartnerServer() as running:
        yield running


@pytest.fixture
def app(server, tmp_path, tiny_dataset):  # noqa: F811
    made = make_console_app(tmp_path, tiny_dataset, alerts_poll_in_app=False,
                            partner_alert_feeds=(PartnerFeed("uz", server.url),))  # fmt: skip
    yield made
    made.extensions["advisor.operations"].close()


def poll(app):
    ops = app.extensions["advisor.operations"]
    (poller,) = ops.partner_feeds.pollers(app.extensions["advisor.settings"],
                                          app.extensions["advisor.services"].network)
    outcome = poller.poll_once()
    poller.store.release_lease(poller.lease_name, poller.holder)
    return outcome


def signed_in(app, name):
    client = Console(app)
    assert client.sign_in(name).status_code == 302
    return client


def test_review_lists_previews_and_publishes_a_draft(app, server):
    server.set_alerts([entity("e7", stops=["kharkiv"], severity=Alert.SEVERE,
                              header_uk="Обстріл вокзалу", header_en="Station shelled"),
                       entity("e8", stops=["P-404"])])  # fmt: skip
    poll(app)
    ops = app.extensions["advisor.operations"]
    (row,) = [r for r in ops.partner_feeds.store.list_entities("uz")
              if r.state is EntityState.OPEN]  # fmt: skip
    operator = signed_in(app, "operator1")
    listing = operator.get("/operator/partner-feeds?lang=uk")
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "Обстріл вокзалу" in page and "e7" in page and "Харків" in page
    assert "P-404" in page  # the unmatched entity is reported on the page
    assert f"/operator/partner-feeds/{row.flag_id}" in page
    review = operator.get(f"/operator/partner-feeds/{row.flag_id}?lang=en")
    text = review.get_data(as_text=True)
    assert review.status_code == 200 and 'id="impact"' in text and "Station shelled" in text
    viewer = signed_in(app, "viewer1")
    refused = viewer.post(f"/operator/partner-feeds/{row.flag_id}/publish", {"version": "1"})
    assert refused.status_code == 403
    forged = operator.post(f"/operator/partner-feeds/{row.flag_id}/publish", {"version": "1"},
                           csrf=False)  # fmt: skip
    assert forged.status_code == 400
    assert ops.store.get_flag(row.flag_id).status is FlagStatus.DRAFT
    stale = operator.post(f"/operator/partner-feeds/{row.flag_id}/publish", {"version": "9"})
    assert stale.status_code == 409
    done = operator.post(f"/operator/partner-feeds/{row.flag_id}/publish", {"version": "1"})
    assert done.status_code == 302
    published = ops.store.get_flag(row.flag_id)
    assert published.status is FlagStatus.PUBLISHED
    assert ops.store.list_audit(object_id=row.flag_id)[0].actor == "operator1"
    now = datetime.now(UTC)
    routed = app.extensions["advisor.services"].risk_state.index.active_flags(now)
    assert row.flag_id in {f.id for f in routed}


def test_withdrawal_proposal_is_confirmed_on_the_withdraw_page_or_kept(app, server):
    ops = app.extensions["advisor.operations"]
    server.set_alerts([entity("a", stops=["kyiv"]), entity("b", stops=["poltava"])])
    poll(app)
    ids = {r.entity_id: r.flag_id for r in ops.partner_feeds.store.list_entities("uz")}
    from advisor.services import COMMAND_LINE

    for flag_id in ids.values():
        ops.publish_flag(flag_id, 1, COMMAND_LINE)
    server.set_alerts([])
    poll(app)
    operator = signed_in(app, "operator1")
    page = operator.get("/operator/partner-feeds?lang=en").get_data(as_text=True)
    assert "Withdrawals to confirm (2)" in page
    review = operator.get(f"/operator/partner-feeds/{ids['a']}?lang=uk").get_data(as_text=True)
    link = re.search(r'href="(/operator/flags/[^"]+/withdraw\?[^"]+)"', review).group(1)
    confirm = operator.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Партнерська стрічка більше не містить" in confirm  # the reason, prefilled
    done = operator.post(f"/operator/flags/{ids['a']}/withdraw",
                         {"version": "2", "reason": "partner lifted it"})  # fmt: skip
    assert done.status_code == 302
    assert ops.store.get_flag(ids["a"]).status is FlagStatus.WITHDRAWN
    kept = operator.post(f"/operator/partner-feeds/{ids['b']}/keep", {})
    assert kept.status_code == 302
    assert ops.store.get_flag(ids["b"]).status is FlagStatus.PUBLISHED
    audit = ops.store.list_audit(object_id=ids["b"], limit=5)
    assert audit[0].action == "partner.keep" and audit[0].actor.endswith("operator1")
    poll(app)
    states = {r.entity_id: r.state for r in ops.partner_feeds.store.list_entities("uz")}
    assert states == {"a": EntityState.CLOSED, "b": EntityState.CLOSED}
    assert "Withdrawals to confirm (0)" in operator.get(
        "/operator/partner-feeds?lang=en").get_data(as_text=True)


SECRET = "s3cret-console-key-91c0"
LINES_TOML = '[[line]]\nid = "kyiv-kharkiv"\n'


@pytest.fixture
def keyed_app(server, tmp_path, tiny_dataset, monkeypatch):  # noqa: F811
    """A feed that needs a key (from ADVISOR_PARTNER_UZ_TOKEN) and maps route R-1."""
    from types import MappingProxyType

    lines = tmp_path / "lines.toml"
    lines.write_text(LINES_TOML, encoding="utf-8")
    monkeypatch.setenv("ADVISOR_PARTNER_UZ_TOKEN", SECRET)
    feed = PartnerFeed("uz", server.url, routes=MappingProxyType({"R-1": "kyiv-kharkiv"}),
                       token_env="ADVISOR_PARTNER_UZ_TOKEN")  # fmt: skip
    made = make_console_app(tmp_path, tiny_dataset, alerts_poll_in_app=False, lines_path=lines,
                            partner_alert_feeds=(feed,))  # fmt: skip
    yield made
    made.extensions["advisor.operations"].close()


def test_console_shows_the_token_variable_on_401_never_the_token(keyed_app, server):
    server.auth = ("Authorization", "Bearer another-key")
    outcome = poll(keyed_app)
    assert "401 unauthorized — check the token in $ADVISOR_PARTNER_UZ_TOKEN" in outcome.error
    assert server.requests[-1]["headers"]["Authorization"] == f"Bearer {SECRET}"
    operator = signed_in(keyed_app, "operator1")
    for lang in ("uk", "en"):
        page = operator.get(f"/operator/partner-feeds?lang={lang}").get_data(as_text=True)
        assert "$ADVISOR_PARTNER_UZ_TOKEN" in page and SECRET not in page
    server.auth = ("Authorization", f"Bearer {SECRET}")
    server.set_alerts([entity("e1", stops=["kyiv", "poltava"], routes=["R-1"])])
    assert not poll(keyed_app).error
    (row,) = keyed_app.extensions["advisor.operations"].partner_feeds.store.list_entities("uz")
    assert row.part == "section:kyiv-kharkiv:kyiv:poltava"  # one section, not three flags
    page = operator.get(f"/operator/partner-feeds/{row.flag_id}?lang=en").get_data(as_text=True)
    assert SECRET not in page and "Why not a section" not in page


def test_review_page_says_why_a_stop_pair_is_not_a_section(keyed_app, server):
    server.auth = ("Authorization", f"Bearer {SECRET}")
    server.set_alerts([entity("e2", stops=["kyiv", "sumy"], routes=["R-1"])])
    poll(keyed_app)
    rows = keyed_app.extensions["advisor.operations"].partner_feeds.store.list_entities("uz")
    (sumy,) = [r for r in rows if r.part == "station:sumy"]
    operator = signed_in(keyed_app, "operator1")
    for lang, label in (("uk", "Чому не ділянка"), ("en", "Why not a section")):
        page = operator.get(f"/operator/partner-feeds/{sumy.flag_id}?lang={lang}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and label in text
        assert "stops kyiv and sumy on route_id R-1: sumy not on line kyiv-kharkiv" in text
