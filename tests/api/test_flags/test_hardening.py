"""Audit findings 1, 4, 6 and 10 of issue 13 over HTTP: each answer is a readable 4xx naming
the field, never a 500, and nothing bad is stored."""

from __future__ import annotations

import pytest

from tests.store.factories import flag_data


def _refused(resp, status, field=None):
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["status"] == status and body["detail"]
    if field:
        assert body["field"] == field, body
    return body


# --- 1: escaped lone surrogates, NUL and control characters -------------------------------


@pytest.mark.parametrize(
    ("field", "escaped"),
    [("reason_en", "\\udfff"), ("reason_uk", "a\\u0000b"), ("source", "UZ\\u001b[31m"),
     ("id", "x\\udfff")],
)
def test_text_that_cannot_be_read_back_is_refused_and_not_stored(client, tokens, field, escaped):
    """Audit finding 1: ``"reason_en": "\\udfff"`` was committed and published with a 500."""
    raw = (
        '{"level": "high", "target": {"kind": "line", "line_id": "lozova-kramatorsk"}, '
        '"reason_uk": "Обстріли", "reason_en": "Strikes", "source": "UZ", '
        f'"status": "published", "{field}": "{escaped}"}}'
    )
    resp = client.post(
        "/api/v1/flags", data=raw.encode(), content_type="application/json",
        headers=tokens.operator,
    )
    _refused(resp, 422, field)
    assert client.get("/api/v1/flags").get_json()["count"] == 0
    assert tokens.ops.store.list_flags() == []
    assert client.get("/readyz").status_code == 200


def test_line_breaks_in_reasons_are_kept(client, tokens):
    resp = client.post("/api/v1/flags", json=flag_data(reason_uk="Рядок 1\nРядок 2"),
                       headers=tokens.operator)  # fmt: skip
    assert resp.status_code == 201 and resp.get_json()["reason_uk"] == "Рядок 1\nРядок 2"


def test_an_unknown_field_named_with_a_surrogate_is_a_readable_422(client, tokens):
    resp = client.post(
        "/api/v1/flags", data=b'{"\\udfff": 1}', content_type="application/json",
        headers=tokens.operator,
    )
    _refused(resp, 422)


# --- 6: edge values that used to answer 500 ------------------------------------------------


@pytest.mark.parametrize(
    "query", ["at=0001-01-01T00:00:00", "at=9999-12-31T23:59:59-12:00", "at=0001-01-01T00:00Z"]
)
def test_far_times_in_a_query_are_a_400(client, query):
    _refused(client.get(f"/api/v1/flags?{query}"), 400, "at")


@pytest.mark.parametrize(
    ("field", "value"),
    [("active_until", "9999-12-31T23:59:59-12:00"), ("active_from", "0001-01-01T00:00:00")],
)
def test_far_times_in_a_flag_are_a_422(client, tokens, field, value):
    resp = client.post("/api/v1/flags", json=flag_data(**{field: value}), headers=tokens.operator)
    _refused(resp, 422, field)


@pytest.mark.parametrize("path", ["/api/v1/flags", "/api/v1/flags/preview"])
def test_deeply_nested_json_is_a_400(client, tokens, path):
    body = b'{"target": ' + b"[" * 20000 + b"]" * 20000 + b"}"
    resp = client.post(path, data=body, content_type="application/json", headers=tokens.operator)
    assert "nested too deeply" in _refused(resp, 400)["detail"]


@pytest.mark.parametrize(
    "before", ["99999999999999999999", "-99999999999999999999", "0", "1" * 5000]
)
def test_audit_ids_out_of_range_are_a_400(client, tokens, before):
    resp = client.get(f"/api/v1/audit?before={before}", headers=tokens.operator)
    _refused(resp, 400, "before")


def test_audit_before_the_largest_id_answers(client, tokens):
    resp = client.get(f"/api/v1/audit?before={2**63 - 1}", headers=tokens.operator)
    assert resp.status_code == 200


# --- 10: values accepted without complaint --------------------------------------------------


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({"kind": "oblast", "oblast_iso": "UA-99"}, "target.oblast_iso"),
        ({"kind": "oblast", "oblast_iso": "UA-00"}, "target.oblast_iso"),
        ({"kind": "section", "line_id": "lozova-kramatorsk", "from_station": "lozova",
          "to_station": "lozova"}, "target.to_station"),
        ({"kind": "bus_link", "from_station": "kyiv", "to_station": "kyiv"}, "target.to_station"),
    ],
)
def test_targets_that_name_nothing_real_are_refused(client, tokens, target, field):
    resp = client.post("/api/v1/flags", json=flag_data(target=target), headers=tokens.operator)
    _refused(resp, 422, field)


def test_a_real_oblast_is_accepted(client, tokens):
    target = {"kind": "oblast", "oblast_iso": "ua-63"}
    resp = client.post("/api/v1/flags", json=flag_data(target=target), headers=tokens.operator)
    assert resp.status_code == 201 and resp.get_json()["target"]["oblast_iso"] == "UA-63"


@pytest.mark.parametrize(
    "name", ["ann\x00", "<b>ann</b>", "a" * 101, "ann smith", "\udfff", "ann\u202e", ""]
)
def test_user_names_with_nul_markup_or_over_100_characters_are_refused(tokens, name):
    from advisor.errors import AuthenticationFailed, InvalidQuery
    from advisor.services import COMMAND_LINE

    with pytest.raises(InvalidQuery) as info:
        tokens.ops.create_user(name, "a long enough password", "viewer", COMMAND_LINE)
    assert info.value.field == "username"
    stored = {user.username for user in tokens.ops.store.list_users()}
    assert name not in stored and name[:100] not in stored  # nothing stored, not even cut off
    with pytest.raises(AuthenticationFailed):  # and signing in with it is a plain refusal
        tokens.ops.authenticate(name, "a long enough password", "10.0.0.1")


def test_user_names_in_any_script_are_accepted(tokens):
    from advisor.services import COMMAND_LINE

    user = tokens.ops.create_user("олена.коваль", "a long enough password", "viewer",
                                  COMMAND_LINE)  # fmt: skip
    assert user.username == "олена.коваль"


# --- 4: pages are rate-limited like the API ---------------------------------------------------


def test_pages_are_rate_limited_like_the_api(tmp_path, tiny_dataset):
    """Audit finding 4: 400 of 400 fuzzy-search page requests passed."""
    from advisor import create_app
    from tests.store.apptools import app_config

    app = create_app(app_config(tmp_path, tiny_dataset, rate_limit_per_minute=20))
    client = app.test_client()
    statuses = [client.get("/?from=Kyjv&to=Harkiv").status_code for _ in range(25)]
    assert statuses[:20] == [200] * 20 and statuses[20:] == [429] * 5
    with client.get("/assets/style.css") as css:  # a page's CSS is not counted
        assert css.status_code == 200
    other = client.get("/?from=Kyjv&to=Harkiv", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert other.status_code == 200
    app.extensions["advisor.operations"].close()
