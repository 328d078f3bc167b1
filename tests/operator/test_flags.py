"""Flag pages: create with preview, publish, withdraw, edit conflicts, history, audit, roles."""

from __future__ import annotations

import re

import pytest

from advisor.services import COMMAND_LINE
from tests.operator.conftest import LOZOVA_KRAMATORSK, flag_id_of
from tests.routing.checks import ask


def _ops(app):
    return app.extensions["advisor.operations"]


def _text(response) -> str:
    return response.get_data(as_text=True)


def _recommended_links(app, origin, destination):
    advice = ask(app.extensions["advisor.services"], origin, destination)
    return {link for leg in advice.recommended.legs for link in leg.link_ids}


def test_preview_names_what_the_flag_covers_and_the_pairs_that_lose_rail(signed_in):
    operator = signed_in("operator1")
    response, digest = operator.preview("/operator/flags/new", LOZOVA_KRAMATORSK)
    page = _text(response)
    assert response.status_code == 200 and digest
    impact = page[page.index('id="impact"') :]
    assert "Лозова–Барвінкове–Краматорськ" in impact or "Lozova" in impact
    # Kyiv → Kramatorsk loses its rail option; Kyiv → Sumy does not.
    row = re.search(r'<tr class="loses">\s*<th scope="row">([^<]*)</th>', impact)
    assert row and "Краматорськ" in row.group(1)
    assert impact.count('<tr class="loses">') == 1
    assert "<svg" in impact and "Київ-Пас." in impact
    # Only a preview: nothing is stored.
    assert _ops(operator_app(operator)).list_flags(COMMAND_LINE) == []


def operator_app(console):
    return console.client.application


def test_publish_needs_a_preview_of_exactly_this_flag(console_app, signed_in):
    operator = signed_in("operator1")
    _, digest = operator.preview("/operator/flags/new", LOZOVA_KRAMATORSK)
    changed = {**LOZOVA_KRAMATORSK, "level": "suspended"}
    response = operator.post(
        "/operator/flags/new", {**changed, "action": "publish", "previewed": digest}
    )
    assert response.status_code == 200 and 'id="impact"' in _text(response)
    assert _ops(console_app).list_flags(COMMAND_LINE) == []


def test_published_flag_reroutes_passengers_and_withdrawal_restores(console_app, signed_in):
    operator = signed_in("operator1")
    before = _recommended_links(console_app, "kyiv", "kramatorsk")
    assert "r-barvinkove-kramatorsk" in before
    flag_id = operator.publish_new(LOZOVA_KRAMATORSK)
    flag = _ops(console_app).get_flag(flag_id, COMMAND_LINE)
    assert flag.status.value == "published" and flag.author == "operator1"
    assert "r-barvinkove-kramatorsk" not in _recommended_links(console_app, "kyiv", "kramatorsk")

    listed = _text(operator.get("/operator/flags?status=published&active=1&lang=en"))
    assert flag_id in listed and "operator1" in listed

    # One click never withdraws: a confirmation page asks for the reason first.
    page = operator.get(f"/operator/flags/{flag_id}")
    assert f'href="/operator/flags/{flag_id}/withdraw' in _text(page)
    confirm = _text(operator.get(f"/operator/flags/{flag_id}/withdraw"))
    assert 'name="reason"' in confirm and "required" in confirm
    refused = operator.post(f"/operator/flags/{flag_id}/withdraw", {"version": "1"})
    assert refused.status_code == 400
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).status.value == "published"
    response = operator.post(
        f"/operator/flags/{flag_id}/withdraw", {"version": "1", "reason": "Track repaired"}
    )
    assert response.status_code == 302
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).status.value == "withdrawn"
    assert _recommended_links(console_app, "kyiv", "kramatorsk") == before
    entry = _ops(console_app).store.list_audit(object_id=flag_id)[0]
    assert (entry.action, entry.note) == ("flag.withdraw", "Track repaired")
    # In the list, a withdrawn flag has no risk badge any more.
    listed = _text(operator.get("/operator/flags?status=withdrawn"))
    row = listed[listed.index(f">{flag_id}<") - 600 : listed.index(f">{flag_id}<") + 400]
    assert 'class="badge withdrawn"' in row and "badge risk-" not in row


def test_edits_of_a_published_flag_need_a_preview_too(console_app, signed_in):
    operator = signed_in("operator1")
    flag_id = operator.publish_new(LOZOVA_KRAMATORSK)
    edited = {**LOZOVA_KRAMATORSK, "version": "1", "level": "suspended"}
    response = operator.post(f"/operator/flags/{flag_id}", {**edited, "action": "save"})
    assert response.status_code == 200 and 'id="impact"' in _text(response)
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).level.value == "high"
    digest = re.search(r'name="previewed" value="([^"]+)"', _text(response)).group(1)
    response = operator.post(
        f"/operator/flags/{flag_id}", {**edited, "action": "save", "previewed": digest}
    )
    assert response.status_code == 302
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).level.value == "suspended"


def test_draft_is_saved_without_preview_and_published_later(console_app, signed_in):
    operator = signed_in("operator1")
    response = operator.post("/operator/flags/new", {**LOZOVA_KRAMATORSK, "action": "save"})
    flag_id = flag_id_of(response)
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).status.value == "draft"
    page = _text(operator.get(f"/operator/flags/{flag_id}"))
    assert 'value="publish"' not in page  # not before a preview
    fields = {**LOZOVA_KRAMATORSK, "version": "1"}
    _, digest = operator.preview(f"/operator/flags/{flag_id}", fields)
    response = operator.post(
        f"/operator/flags/{flag_id}", {**fields, "action": "publish", "previewed": digest}
    )
    assert response.status_code == 302
    flag = _ops(console_app).get_flag(flag_id, COMMAND_LINE)
    assert (flag.status.value, flag.version) == ("published", 2)  # unchanged data: no edit


def test_bad_input_is_named_next_to_the_field_and_kept(signed_in):
    operator = signed_in("operator1")
    fields = {
        **LOZOVA_KRAMATORSK,
        "reason_uk": "",
        "reason_en": "",
        "source": "Мій джерело",
        "active_from": "2026-03-12T10:00",
        "active_until": "2026-03-11T10:00",
    }
    response, _ = operator.preview("/operator/flags/new", fields)
    page = _text(response)
    assert response.status_code == 400
    assert 'id="reason_uk-error"' in page and 'value="Мій джерело"' in page
    fields["reason_en"] = "Strikes"
    page = _text(operator.preview("/operator/flags/new", fields)[0])
    assert 'id="active_until-error"' in page or 'id="active_from-error"' in page
    assert 'value="2026-03-11T10:00"' in page


def test_station_names_are_resolved_and_shown_as_matched(signed_in):
    operator = signed_in("operator1")
    fields = {**LOZOVA_KRAMATORSK, "kind": "station", "station": "Лозва"}  # typo
    page = _text(operator.preview("/operator/flags/new", fields)[0])
    assert 'name="station_id" value="lozova"' in page and 'value="Лозова"' in page


def test_unknown_station_is_named_and_choices_can_be_picked(signed_in):
    operator = signed_in("operator1")
    fields = {
        **LOZOVA_KRAMATORSK,
        "kind": "bus_link",
        "from_station": "Київ",
        "to_station": "Qqqqzzzz",
    }
    page = _text(operator.preview("/operator/flags/new", fields)[0])
    assert 'id="to_station-error"' in page and 'value="Qqqqzzzz"' in page
    response = operator.post("/operator/flags/new", {**fields, "pick": "to_station:bus:kharkiv"})
    page = _text(response)
    assert 'name="to_station_id" value="bus:kharkiv"' in page
    assert "to_station-error" not in page


def test_target_search_finds_lines_stations_and_oblasts(signed_in):
    operator = signed_in("operator1")
    page = _text(operator.post("/operator/flags/new", {"action": "search", "query": "лозова"}))
    assert 'value="line:kharkiv-lozova"' in page and 'value="station:lozova"' in page
    page = _text(operator.post("/operator/flags/new", {"pick": "line:kharkiv-lozova"}))
    assert '<option value="kharkiv-lozova" selected>' in page


def test_section_between_two_stations_of_a_line(console_app, signed_in):
    operator = signed_in("operator1")
    page = _text(
        operator.post(
            "/operator/flags/new",
            {"action": "stations", "kind": "section", "section_line_id": "lozova-kramatorsk"},
        )
    )
    assert '<option value="barvinkove">' in page
    fields = {
        **LOZOVA_KRAMATORSK,
        "kind": "section",
        "section_line_id": "lozova-kramatorsk",
        "section_from": "barvinkove",
        "section_to": "kramatorsk",
    }
    response = operator.post("/operator/flags/new", {**fields, "action": "save"})
    flag = _ops(console_app).get_flag(flag_id_of(response), COMMAND_LINE)
    assert (flag.target.kind, flag.target.from_station) == ("section", "barvinkove")


def _selected(page: str, name: str) -> str:
    select = page[page.index(f'<select id="{name}"') :]
    select = select[: select.index("</select>")]
    return re.search(r'<option value="([^"]*)" selected>', select).group(1)


def test_a_stale_save_is_refused_and_shows_the_merged_state(console_app, signed_in):
    """A save again after a conflict must not silently revert the other operator's change
    (their "suspended" back to your "high"): the form shows both changes merged."""
    first, second = signed_in("operator1"), signed_in("operator2")
    flag_id = flag_id_of(first.post("/operator/flags/new", {**LOZOVA_KRAMATORSK, "action": "save"}))
    opened = {**LOZOVA_KRAMATORSK, "version": "1"}
    assert (
        second.post(
            f"/operator/flags/{flag_id}", {**opened, "level": "suspended", "action": "save"}
        ).status_code
        == 302
    )
    mine = {**opened, "reason_en": "Strikes on the track near Barvinkove"}
    response = first.post(f"/operator/flags/{flag_id}?lang=en", {**mine, "action": "save"})
    page = _text(response)
    assert response.status_code == 409
    assert "operator2" in page and 'class="conflict"' in page
    conflict = page[page.index('class="conflict"') : page.index("</section>")]
    assert re.search(r"<th scope=\"row\">Level</th><td>High risk</td><td>Suspended</td>", conflict)
    assert "Strikes on the track near Barvinkove" in page  # my input is kept
    assert _selected(page, "level") == "suspended"  # … and theirs is merged in
    assert 'name="version" value="2"' in page and 'name="contested"' not in page
    # Saving what the form now shows keeps both changes.
    merged = {**mine, "level": "suspended", "version": "2", "action": "save"}
    assert first.post(f"/operator/flags/{flag_id}", merged).status_code == 302
    flag = _ops(console_app).get_flag(flag_id, COMMAND_LINE)
    assert (flag.version, flag.level.value) == (3, "suspended")
    assert flag.reason_en == "Strikes on the track near Barvinkove"


def test_a_field_both_operators_changed_needs_a_choice(console_app, signed_in):
    first, second = signed_in("operator1"), signed_in("operator2")
    flag_id = flag_id_of(first.post("/operator/flags/new", {**LOZOVA_KRAMATORSK, "action": "save"}))
    opened = {**LOZOVA_KRAMATORSK, "version": "1"}
    second.post(f"/operator/flags/{flag_id}", {**opened, "level": "suspended", "action": "save"})
    page = _text(first.post(f"/operator/flags/{flag_id}", {**opened, "level": "elevated",
                                                           "action": "save"}))  # fmt: skip
    assert 'name="contested" value="level"' in page
    assert _selected(page, "level") == "elevated"  # mine stays in the form, marked
    again = {**opened, "level": "elevated", "version": "2", "contested": "level",
             "action": "save"}  # fmt: skip
    refused = first.post(f"/operator/flags/{flag_id}", again)
    assert refused.status_code == 400 and 'name="contested" value="level"' in _text(refused)
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).level.value == "suspended"
    kept = first.post(f"/operator/flags/{flag_id}", {**again, "choose_level": "theirs"})
    assert kept.status_code == 302
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).level.value == "suspended"


def test_history_shows_every_version_and_its_changes(signed_in):
    operator = signed_in("operator1")
    flag_id = flag_id_of(
        operator.post("/operator/flags/new", {**LOZOVA_KRAMATORSK, "action": "save"})
    )
    operator.post(
        f"/operator/flags/{flag_id}",
        {**LOZOVA_KRAMATORSK, "version": "1", "source": "ДСНС", "action": "save"},
    )
    page = _text(operator.get(f"/operator/flags/{flag_id}/history?lang=en"))
    assert "Version 2" in page and "Version 1" in page
    assert "<del>Укрзалізниця</del> → ДСНС" in page


def test_flag_list_filters(console_app, signed_in):
    operator = signed_in("operator1")
    operator.publish_new(LOZOVA_KRAMATORSK)
    operator.post(
        "/operator/flags/new",
        {
            **LOZOVA_KRAMATORSK,
            "kind": "line",
            "line_id": "kyiv-sumy",
            "level": "elevated",
            "action": "save",
        },
    )
    ids = _listed(operator, "")
    assert len(ids) == 2
    assert len(_listed(operator, "status=draft")) == 1
    assert len(_listed(operator, "level=high")) == 1
    assert len(_listed(operator, "line=kyiv-sumy")) == 1
    assert len(_listed(operator, "oblast=UA-14")) == 1  # Kramatorsk is in Donetsk oblast
    assert len(_listed(operator, "active=1")) == 1


def _listed(console, query) -> list[str]:
    page = _text(console.get(f"/operator/flags?{query}"))
    return re.findall(r'<a href="/operator/flags/(f-[0-9a-f]+)', page)


def test_a_viewer_reads_but_cannot_publish_or_withdraw(console_app, signed_in):
    operator, viewer = signed_in("operator1"), signed_in("viewer1")
    flag_id = operator.publish_new(LOZOVA_KRAMATORSK)
    page = _text(viewer.get(f"/operator/flags/{flag_id}"))
    assert "Withdraw" not in page and "Відкликати" not in page
    response, digest = viewer.preview(
        "/operator/flags/new", {**LOZOVA_KRAMATORSK, "line_id": "kyiv-sumy"}
    )
    assert response.status_code == 200 and 'value="publish"' not in _text(response)
    forced = viewer.post(
        "/operator/flags/new",
        {**LOZOVA_KRAMATORSK, "line_id": "kyiv-sumy", "action": "publish", "previewed": digest},
    )
    assert forced.status_code == 403
    assert viewer.post(f"/operator/flags/{flag_id}/withdraw", {"version": "1"}).status_code == 403
    assert viewer.get("/operator/audit").status_code == 403
    flags = _ops(console_app).list_flags(COMMAND_LINE)
    assert [(f.id, f.status.value) for f in flags] == [(flag_id, "published")]


def test_audit_page_lists_who_did_what_from_where(signed_in):
    operator = signed_in("operator1", address="192.0.2.10")
    flag_id = operator.publish_new(LOZOVA_KRAMATORSK)
    page = _text(operator.get(f"/operator/audit?object={flag_id}"))
    assert "operator1" in page and "192.0.2.10" in page and "flag.create" in page


def test_admin_creates_accounts_and_tokens_shown_once(console_app, signed_in):
    admin = signed_in("admin1")
    assert signed_in("operator1").get("/operator/accounts").status_code == 403
    response = admin.post(
        "/operator/accounts", {"username": "new-op", "password": "short", "role": "operator"}
    )
    assert response.status_code == 400 and 'value="new-op"' in _text(response)
    response = admin.post(
        "/operator/accounts",
        {"username": "new-op", "password": "long enough password", "role": "operator"},
    )
    assert response.status_code == 302
    page = _text(admin.post("/operator/tokens", {"username": "new-op", "name": "feed"}))
    secret = re.search(r'<code id="token-secret">([^<]+)</code>', page).group(1)
    bearer = {"Authorization": f"Bearer {secret}"}
    client = console_app.test_client()
    assert client.get("/api/v1/audit", headers=bearer).status_code == 200
    listing = _text(admin.get("/operator/tokens"))
    assert secret not in listing and secret[:12] in listing  # only the prefix, ever again
    token_id = re.search(r'action="/operator/tokens/(\d+)/revoke', listing).group(1)
    assert admin.post(f"/operator/tokens/{token_id}/revoke", {}).status_code == 302
    assert client.get("/api/v1/audit", headers=bearer).status_code == 401


def test_admin_changes_a_role_and_it_applies_to_the_open_session(signed_in):
    admin, operator = signed_in("admin1"), signed_in("operator1")
    assert operator.get("/operator/audit").status_code == 200
    admin.post("/operator/accounts/operator1", {"role": "viewer"})
    assert operator.get("/operator/audit").status_code == 403


def test_pages_speak_ukrainian_by_default_and_english_on_request(signed_in):
    operator = signed_in("operator1")
    uk = _text(operator.get("/operator/flags/new"))
    en = _text(operator.get("/operator/flags/new?lang=en"))
    assert 'lang="uk"' in uk and "Попередній перегляд впливу" in uk
    assert 'lang="en"' in en and "Preview the impact" in en


KRAMATORSK_AREA = {
    **LOZOVA_KRAMATORSK,
    "kind": "polygon",
    "ring": "48.6, 37.4\n48.9, 37.4\n\n48.9; 37.7\n48.6 37.7\n",
}


def test_polygon_target_from_lat_lon_lines(console_app, signed_in):
    operator = signed_in("operator1")
    flag_id = operator.publish_new(KRAMATORSK_AREA)
    target = _ops(console_app).get_flag(flag_id, COMMAND_LINE).target
    assert target.kind == "polygon"
    assert [tuple(p) for p in target.ring[:4]] == [
        (37.4, 48.6), (37.4, 48.9), (37.7, 48.9), (37.7, 48.6)
    ]  # fmt: skip
    page = _text(operator.get(f"/operator/flags/{flag_id}?lang=en"))
    assert "48.6, 37.4\n48.9, 37.4\n48.9, 37.7\n48.6, 37.7</textarea>" in page


@pytest.mark.parametrize(
    ("ring", "named"),
    [
        ("48.6, 37.4\nforty-eight, 37.4\n48.9, 37.7", "Line 2 “forty-eight, 37.4”"),
        ("48.6, 37.4\n\n148.9, 37.4\n48.9, 37.7", "Line 3 “148.9, 37.4”"),
        ("48.6, 37.4, 1\n48.9, 37.4\n48.9, 37.7", "Line 1 “48.6, 37.4, 1”"),
        ("48.6, 37.4\n48.9, 37.4", "at least 3 points"),
        ("48.6, 37.4\n48.9, 37.7\n48.6, 37.7\n48.9, 37.4", "shape that crosses itself"),
    ],
)
def test_bad_polygon_lines_are_named_and_kept(console_app, signed_in, ring, named):
    operator = signed_in("operator1")
    fields = {**KRAMATORSK_AREA, "ring": ring}
    response, _ = operator.preview("/operator/flags/new?lang=en", fields)
    page = _text(response)
    assert response.status_code == 400 and 'id="ring-error"' in page
    error = page[page.index('id="ring-error"') :][:400]
    assert named in error
    assert f">{ring}</textarea>" in page
    assert _ops(console_app).list_flags(COMMAND_LINE) == []


def test_errors_speak_the_page_language_and_kyiv_time(signed_in):
    """The parser's English ("target kind 'line' needs 'line_id'") and UTC times never
    reach the Ukrainian console."""
    operator = signed_in("operator1")
    no_line = {**LOZOVA_KRAMATORSK, "line_id": "", "action": "save"}
    no_line = _text(operator.post("/operator/flags/new", no_line))
    assert "Оберіть лінію." in no_line and "needs 'line_id'" not in no_line
    window = {**LOZOVA_KRAMATORSK, "active_from": "2026-03-12T10:00",
              "active_until": "2026-03-12T09:00", "action": "save"}  # fmt: skip
    page = _text(operator.post("/operator/flags/new", window))
    assert "київський час: 2026-03-12 10:00 – 2026-03-12 09:00" in page
    assert "+00:00" not in page
    english = _text(operator.post("/operator/flags/new?lang=en", window))
    assert "Kyiv time: 2026-03-12 10:00 – 2026-03-12 09:00" in english


def test_oblasts_are_named_in_ukrainian_and_lines_in_alphabetical_order(signed_in):
    operator = signed_in("operator1")
    page = _text(operator.get("/operator/flags/new"))
    oblasts = page[page.index('id="oblast_iso"') :]
    oblasts = oblasts[: oblasts.index("</select>")]
    oblasts = re.findall(r'<option value="UA-\d\d">([^<]*)</option>', oblasts)
    assert oblasts and all(("область" in n or "місто" in n or "Крим" in n) for n in oblasts)
    assert "Odessa" not in page and "Oblast" not in page
    from advisor.web.operator.words import sort_key

    lines = page[page.index('id="line_id"') :]
    names = re.findall(r'<option value="[^"]+">([^<]*)</option>', lines[: lines.index("</select>")])
    assert names == sorted(names, key=sort_key)
    found = _text(operator.post("/operator/flags/new", {"query": "Odessa", "action": "search"}))
    assert "Одеська область" in found and "(UA-51)" not in found


def test_preview_shows_what_passengers_see_when_nothing_is_advised(signed_in):
    """Kyiv → Sumy with Sumy flagged high: passengers see not-advised options, so the
    preview must not say "no route"."""
    operator = signed_in("operator1")
    fields = {**LOZOVA_KRAMATORSK, "kind": "station", "station": "Суми", "line_id": ""}
    response, _ = operator.preview("/operator/flags/new?lang=en", fields)
    impact = _text(response)[_text(response).index('id="impact"') :]
    sumy = impact[impact.index("→ Sumy") :]
    sumy = sumy[: sumy.index("</tr>")]
    assert "No route found." not in sumy
    assert "passengers see these options, each marked not advised" in sumy
    assert sumy.count("<li>") == 2
    assert sumy.count('<span class="verdict">Not advised</span>') == 2
    rows = re.findall(r'<tr class="(loses|)">', impact)
    assert rows == sorted(rows, key=lambda c: c != "loses")  # changed pairs first


@pytest.mark.parametrize(
    ("query", "status"),
    [("before=99999999999999999999", 200), ("before=-1", 200), ("before=١٢", 200),
     ("object=%00", 400)],
)
def test_audit_page_takes_any_paging_value(signed_in, query, status):
    """Audit finding 6 on the console: a huge ``before`` overflowed the database (500)."""
    assert signed_in("operator1").get(f"/operator/audit?{query}").status_code == status


def test_the_last_admin_cannot_disable_themselves_in_the_console(console_app, signed_in):
    """Audit finding 9 in the console, said in Ukrainian."""
    admin = signed_in("admin1")
    response = admin.post("/operator/accounts/admin1", {"active": "0"})
    assert response.status_code == 302
    page = _text(admin.get("/operator/accounts"))
    assert "останній активний адміністратор" in page
    assert _ops(console_app).store.find_user("admin1").active
    refused = _text(admin.post("/operator/accounts", {"username": "<b>x</b>",
                                                       "password": "a long enough password",
                                                       "role": "viewer"}))  # fmt: skip
    assert "Ім’я користувача" in refused and "<b>x</b>" not in refused


def test_the_console_sets_and_clears_a_war_map_override(console_app, signed_in):
    """caps_baseline (issue 11) from the form: ticked → stored and shown ticked; unticked on an
    edit → cleared; on a target it cannot lower → the parser's reason next to the box."""
    operator = signed_in("operator1")
    capped = {**LOZOVA_KRAMATORSK, "level": "elevated", "caps_baseline": "on"}
    flag_id = flag_id_of(operator.post("/operator/flags/new", {**capped, "action": "save"}))
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).caps_baseline is True
    page = _text(operator.get(f"/operator/flags/{flag_id}"))
    assert re.search(r'name="caps_baseline" type="checkbox" checked', page)
    unticked = {**LOZOVA_KRAMATORSK, "level": "elevated", "version": "1"}
    response = operator.post(f"/operator/flags/{flag_id}", {**unticked, "action": "save"})
    assert response.status_code == 302, _text(response)
    assert _ops(console_app).get_flag(flag_id, COMMAND_LINE).caps_baseline is False
    oblast = {**capped, "kind": "oblast", "oblast_iso": "UA-63"}
    refused = _text(operator.post("/operator/flags/new?lang=en", {**oblast, "action": "save"}))
    assert 'id="caps_baseline-error"' in refused and "not on a target of kind oblast" in refused
