"""The flags JSON API: lifecycle, versions, roles, tokens, validation, routing visibility."""

from __future__ import annotations

import json

import pytest

from tests.routing.checks import ask
from tests.store.factories import flag_data

WRITES = [
    ("post", "/api/v1/flags"),
    ("patch", "/api/v1/flags/{id}"),
    ("put", "/api/v1/flags/{id}"),
    ("post", "/api/v1/flags/{id}/publish"),
    ("post", "/api/v1/flags/{id}/withdraw"),
]


def _new(client, headers, **overrides):
    data = flag_data(**overrides)
    resp = client.post("/api/v1/flags", json=data, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_draft_publish_withdraw_lifecycle_keeps_every_version(client, tokens):
    flag = _new(client, tokens.operator)
    assert (flag["status"], flag["version"], flag["author"]) == ("draft", 1, "operator1")
    fid = flag["id"]
    assert client.get("/api/v1/flags").get_json()["count"] == 0
    resp = client.post(f"/api/v1/flags/{fid}/publish", json={"version": 1}, headers=tokens.operator)
    assert resp.status_code == 200 and resp.headers["ETag"] == '"v2"'
    assert resp.get_json()["published_at"]
    public = client.get("/api/v1/flags").get_json()
    assert [f["id"] for f in public["flags"]] == [fid]
    assert "author" not in public["flags"][0]  # operators' names are not public
    resp = client.post(
        f"/api/v1/flags/{fid}/withdraw", headers={**tokens.operator, "If-Match": '"v2"'},
        json={"reason": "Track repaired"},
    )
    assert resp.get_json()["status"] == "withdrawn"
    audit = client.get(f"/api/v1/audit?object={fid}&limit=1", headers=tokens.operator)
    assert audit.get_json()["entries"][0]["note"] == "Track repaired"
    assert client.get("/api/v1/flags").get_json()["count"] == 0
    history = client.get(f"/api/v1/flags/{fid}/history", headers=tokens.viewer).get_json()
    assert [(v["version"], v["status"]) for v in history["versions"]] == [
        (1, "draft"), (2, "published"), (3, "withdrawn"),
    ]


def test_create_published_and_edit_with_patch_and_put(client, tokens):
    flag = _new(client, tokens.operator, status="published")
    fid = flag["id"]
    resp = client.patch(
        f"/api/v1/flags/{fid}", json={"version": 1, "level": "suspended"}, headers=tokens.operator
    )
    edited = resp.get_json()
    assert (edited["level"], edited["version"], edited["reason_en"]) == ("suspended", 2, "Strikes")
    assert edited["status"] == "published"
    full = flag_data(level="elevated", reason_uk=None, reason_en="Only English now")
    for name in ("id", "status"):
        full.pop(name)
    resp = client.put(f"/api/v1/flags/{fid}", json={**full, "version": 2}, headers=tokens.operator)
    replaced = resp.get_json()
    assert (replaced["level"], replaced["reason_uk"], replaced["version"]) == ("elevated", "", 3)


def test_stale_version_refused_with_current_version(client, tokens):
    fid = _new(client, tokens.operator)["id"]
    client.patch(f"/api/v1/flags/{fid}", json={"version": 1, "level": "elevated"},
                 headers=tokens.operator)
    body = _problem(
        client.patch(f"/api/v1/flags/{fid}", json={"version": 1, "level": "high"},
                     headers=tokens.operator),
        409,
    )
    assert body["current_version"] == 2 and body["current"]["level"] == "elevated"
    body = _problem(
        client.post(
            f"/api/v1/flags/{fid}/publish", headers={**tokens.operator, "If-Match": '"v1"'}
        ),
        412,
    )
    assert body["current_version"] == 2
    _problem(client.post(f"/api/v1/flags/{fid}/publish", headers=tokens.operator), 428)


def test_lifecycle_forbids_going_back(client, tokens):
    fid = _new(client, tokens.operator)["id"]
    client.post(f"/api/v1/flags/{fid}/withdraw", json={"version": 1}, headers=tokens.operator)
    body = _problem(
        client.post(f"/api/v1/flags/{fid}/publish", json={"version": 2}, headers=tokens.operator),
        409,
    )
    assert "withdrawn" in body["detail"]
    _problem(
        client.patch(f"/api/v1/flags/{fid}", json={"version": 2, "level": "high"},
                     headers=tokens.operator),
        409,
    )


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("who", ["anonymous", "viewer"])
def test_every_write_refuses_anonymous_and_viewers(client, tokens, method, path, who):
    fid = _new(client, tokens.operator)["id"]
    headers = {} if who == "anonymous" else tokens.viewer
    body = {"version": 1, **flag_data()}
    resp = getattr(client, method)(path.format(id=fid), json=body, headers=headers)
    if who == "anonymous":
        _problem(resp, 401)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    else:
        assert "viewer" in _problem(resp, 403)["detail"]
    assert client.get(f"/api/v1/flags/{fid}", headers=tokens.viewer).get_json()["version"] == 1


@pytest.mark.parametrize(
    "path", ["/api/v1/flags/{id}/history", "/api/v1/flags/{id}", "/api/v1/flags?status=draft"]
)
def test_drafts_and_history_are_not_public(client, tokens, path):
    fid = _new(client, tokens.operator)["id"]
    assert client.get(path.format(id=fid)).status_code in (401, 404)
    assert client.get(path.format(id=fid), headers=tokens.viewer).status_code == 200


def test_audit_needs_operator_and_records_every_write(client, tokens):
    fid = _new(client, tokens.operator)["id"]
    client.post(f"/api/v1/flags/{fid}/publish", json={"version": 1}, headers=tokens.operator)
    _problem(client.get("/api/v1/audit", headers=tokens.viewer), 403)
    entries = client.get(f"/api/v1/audit?object={fid}", headers=tokens.operator).get_json()
    assert [e["action"] for e in entries["entries"]] == ["flag.publish", "flag.create"]
    publish = entries["entries"][0]
    assert publish["actor"].startswith("operator1") and publish["address"] == "127.0.0.1"
    assert publish["before"]["status"] == "draft" and publish["after"]["status"] == "published"
    everything = client.get("/api/v1/audit?limit=1000", headers=tokens.admin).get_json()
    assert {"user.create", "token.create"} <= {e["action"] for e in everything["entries"]}


def test_token_cannot_exceed_its_role_or_its_account(flag_app, client, tokens):
    from advisor.errors import PermissionDenied
    from advisor.services import COMMAND_LINE

    ops = tokens.ops
    with pytest.raises(PermissionDenied):
        ops.create_token("operator1", "too strong", "admin", COMMAND_LINE)
    weak = ops.create_token("admin1", "read only", "viewer", COMMAND_LINE)
    headers = {"Authorization": f"Bearer {weak.secret}"}
    _problem(client.post("/api/v1/flags", json=flag_data(), headers=headers), 403)
    # Demoting the account weakens its existing tokens at once.
    strong = ops.create_token("operator1", "ops", "operator", COMMAND_LINE)
    ops.update_user("operator1", COMMAND_LINE, role="viewer")
    data = flag_data()
    _problem(client.post("/api/v1/flags", json=data,
                         headers={"Authorization": f"Bearer {strong.secret}"}), 403)


def test_revoked_token_stops_working_at_once(client, tokens):
    ops = tokens.ops
    from advisor.services import COMMAND_LINE

    issued = ops.create_token("operator1", "short-lived", None, COMMAND_LINE)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    assert client.get("/api/v1/flags?status=draft", headers=headers).status_code == 200
    ops.revoke_token(issued.token.id, COMMAND_LINE)
    _problem(client.get("/api/v1/flags?status=draft", headers=headers), 401)
    listed = {t.id: t for t in ops.list_tokens(COMMAND_LINE)}
    assert listed[issued.token.id].revoked and listed[issued.token.id].last_used_at is not None


def test_token_secret_is_never_stored(flag_app, tokens):
    from advisor.services import COMMAND_LINE

    issued = tokens.ops.create_token("admin1", "check", None, COMMAND_LINE)
    with tokens.ops.store.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM api_tokens"))
        audit = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM audit_log"))
    assert issued.secret not in dump and issued.secret not in audit
    assert issued.secret[:12] in dump  # the shown prefix helps tell tokens apart


def test_bad_tokens_are_rate_limited_but_never_lock_out_a_valid_one(flag_app, client, tokens):
    """Audit finding 2: five bad tokens locked out every valid token from that address."""
    limit = flag_app.extensions["advisor.settings"].signin_attempts_per_15_minutes
    bad = {"Authorization": "Bearer adv_wrong"}
    for _ in range(limit):
        _problem(client.get("/api/v1/flags?status=draft", headers=bad), 401)
    resp = client.get("/api/v1/flags?status=draft", headers=bad)
    _problem(resp, 429)  # that credential is blocked, from anywhere
    assert int(resp.headers["Retry-After"]) > 0
    other = {"Authorization": "Bearer adv_other"}
    _problem(client.get("/api/v1/flags?status=draft", headers=other), 429)  # address is over
    # A valid token from the same address still works.
    assert client.get("/api/v1/flags?status=draft", headers=tokens.viewer).status_code == 200


def _xff(address):
    return {"X-Forwarded-For": address}


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(tmp_path, tiny_dataset):
    """Audit finding 2: behind a proxy everybody shares one address; the header is honoured
    only with ``[web] trusted_proxies``, and then each client is counted apart."""
    from advisor import create_app
    from tests.store.apptools import app_config, issue_tokens

    for trusted, expect_operator in ((0, "10.0.0.1"), (1, "198.51.100.7")):
        (tmp_path / str(trusted)).mkdir()
        app = create_app(app_config(tmp_path / str(trusted), tiny_dataset, trusted_proxies=trusted))
        client = app.test_client()
        tokens = issue_tokens(app)
        for n in range(8):  # an attacker rotating the header
            bad = {"Authorization": f"Bearer adv_bad{n}", **_xff(f"203.0.113.{n}")}
            client.get("/api/v1/flags?status=draft", headers=bad,
                       environ_base={"REMOTE_ADDR": "10.0.0.1"})
        resp = client.post(
            "/api/v1/flags", json=flag_data(), headers={**tokens.operator, **_xff("198.51.100.7")},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
        assert resp.status_code == 201, resp.get_json()
        audit = client.get("/api/v1/audit?limit=1", headers=tokens.admin).get_json()
        assert audit["entries"][0]["address"] == expect_operator
        app.extensions["advisor.operations"].close()


def test_sign_in_checks_password_and_is_rate_limited(flag_app, tokens):
    from advisor.errors import AuthenticationFailed, RateLimited

    ops = tokens.ops
    assert ops.authenticate("operator1", "correct horse battery", "1.1.1.1").role.value == (
        "operator"
    )
    limit = flag_app.extensions["advisor.settings"].signin_attempts_per_15_minutes
    for _ in range(limit):
        with pytest.raises(AuthenticationFailed):
            ops.authenticate("operator1", "wrong password!", "2.2.2.2")
    with pytest.raises(RateLimited):
        ops.authenticate("operator1", "correct horse battery", "2.2.2.2")
    assert ops.authenticate("operator1", "correct horse battery", "3.3.3.3")
    # Guessing other names from 2.2.2.2 answers 429, but a valid account still signs in there.
    with pytest.raises(RateLimited):
        ops.authenticate("nobody", "wrong password!", "2.2.2.2")
    assert ops.authenticate("viewer1", "correct horse battery", "2.2.2.2")


def test_passwords_are_argon2_hashed(tokens):
    user = tokens.ops.store.find_user("admin1")
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash


def test_flags_at_a_given_time(client, tokens):
    _new(client, tokens.operator, status="published",
         active_from="2030-01-01T00:00:00+00:00", active_until="2030-01-02T00:00:00+00:00")
    assert client.get("/api/v1/flags").get_json()["count"] == 0
    inside = client.get("/api/v1/flags?at=2030-01-01T12:00:00Z").get_json()
    assert inside["count"] == 1 and inside["at"].startswith("2030-01-01T12:00")
    assert inside["freshness"]["flags_available"] and inside["freshness"]["flags_updated_at"]
    assert client.get("/api/v1/flags?at=2030-01-02T00:00:00Z").get_json()["count"] == 0
    _problem(client.get("/api/v1/flags?at=yesterday"), 400)


def test_publish_and_withdraw_reach_routing_before_the_response(flag_app, client, tokens):
    services = flag_app.extensions["advisor.services"]

    def direct_rail_advised():
        advice = ask(services, "dnipro", "zaporizhzhia")
        return advice.recommended is not None and advice.recommended.modes == {"rail"}

    assert direct_rail_advised()
    flag = _new(client, tokens.operator, status="draft",
                target={"kind": "line", "line_id": "dnipro-zaporizhzhia"})
    assert direct_rail_advised()  # a draft changes nothing
    client.post(f"/api/v1/flags/{flag['id']}/publish", json={"version": 1},
                headers=tokens.operator)
    assert not direct_rail_advised()
    client.post(f"/api/v1/flags/{flag['id']}/withdraw", json={"version": 2},
                headers=tokens.operator)
    assert direct_rail_advised()


LONG = "x" * 1001
INVALID = [
    # (body, content type, expected status, text the problem must contain)
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b'["a list"]', "application/json", 422, "JSON object"),
    (b"level=high", "application/x-www-form-urlencoded", 415, "application/json"),
    (json.dumps(flag_data(colour="red", size=3)).encode(), "application/json", 422,
     "unknown field(s): colour, size"),
    (json.dumps(flag_data(author="me")).encode(), "application/json", 422, "author"),
    (json.dumps(flag_data(level="grave")).encode(), "application/json", 422,
     "unknown risk level 'grave'"),
    (json.dumps(flag_data(reason_uk=None, reason_en=None)).encode(), "application/json", 422,
     "reason"),
    (json.dumps(flag_data(reason_en=LONG)).encode(), "application/json", 422,
     "limit is 1000"),
    (json.dumps(flag_data(source=None)).encode(), "application/json", 422, "source"),
    (json.dumps(flag_data(active_from="2026-03-02T00:00:00Z",
                          active_until="2026-03-01T00:00:00Z")).encode(),
     "application/json", 422, "before it starts"),
    (json.dumps(flag_data(active_from="soon")).encode(), "application/json", 422,
     "not an ISO 8601 time"),
    (json.dumps(flag_data(target={"kind": "line", "line_id": "kyiv-kharkov"})).encode(),
     "application/json", 422, "unknown line 'kyiv-kharkov'"),
    (json.dumps(flag_data(target={"kind": "station", "station_id": "kharkov"})).encode(),
     "application/json", 422, "unknown station id 'kharkov'"),
    (json.dumps(flag_data(target={"kind": "blob"})).encode(), "application/json", 422,
     "unknown target kind"),
    (json.dumps(flag_data(status="withdrawn")).encode(), "application/json", 422,
     "draft or published"),
    (json.dumps(flag_data(id="bad id!")).encode(), "application/json", 422, "flag id"),
    (b'{"pad": "' + b"x" * 70_000 + b'"}', "application/json", 413, "larger than"),
]


@pytest.mark.parametrize(("body", "ctype", "status", "text"), INVALID,
                         ids=[case[3][:30] for case in INVALID])
def test_invalid_flag_bodies_get_a_clear_problem(client, tokens, body, ctype, status, text):
    resp = client.post("/api/v1/flags", data=body, content_type=ctype, headers=tokens.operator)
    problem = _problem(resp, status)
    assert text in problem["detail"], problem
    assert client.get("/api/v1/flags?status=draft", headers=tokens.viewer).get_json()["count"] == 0


def test_unknown_names_come_with_suggestions(client, tokens):
    data = flag_data(target={"kind": "station", "station_id": "kharkov"})
    problem = _problem(client.post("/api/v1/flags", json=data, headers=tokens.operator), 422)
    assert "kharkiv" in problem["suggestions"] and problem["field"] == "target.station_id"


def test_missing_flag_is_404_problem(client, tokens):
    _problem(client.get("/api/v1/flags/nope"), 404)
    _problem(client.post("/api/v1/flags/nope/publish", json={"version": 1},
                         headers=tokens.operator), 404)


def test_duplicate_id_is_409(client, tokens):
    flag = _new(client, tokens.operator)
    data = flag_data(id=flag["id"])
    _problem(client.post("/api/v1/flags", json=data, headers=tokens.operator), 409)


def test_another_process_sees_a_publish_on_its_next_refresh(tmp_path, tiny_dataset):
    from advisor import create_app
    from tests.store.apptools import app_config, issue_tokens

    config = app_config(tmp_path, tiny_dataset)
    writer = create_app(config)
    # A second app on the same database stands for another gunicorn worker; refreshing on
    # every request makes "on its next refresh" observable without sleeping.
    reader = create_app({**config, "flags_refresh_seconds": 0.0})
    reader_services = reader.extensions["advisor.services"]
    assert ask(reader_services, "dnipro", "zaporizhzhia").recommended.modes == {"rail"}
    headers = issue_tokens(writer).operator
    flag = writer.test_client().post(
        "/api/v1/flags", headers=headers,
        json=flag_data(status="published",
                       target={"kind": "line", "line_id": "dnipro-zaporizhzhia"}),
    ).get_json()
    advice = ask(reader_services, "dnipro", "zaporizhzhia")
    assert advice.recommended.modes != {"rail"}
    assert flag["id"] in {f.id for f in reader_services.risk_state.flags}


@pytest.mark.postgres
def test_lifecycle_and_conflicts_on_postgresql(tmp_path, tiny_dataset, pg_url):
    from advisor import create_app
    from tests.store.apptools import app_config, issue_tokens

    app = create_app(app_config(tmp_path, tiny_dataset, database_url=pg_url))
    client, headers = app.test_client(), issue_tokens(app).operator
    fid = client.post("/api/v1/flags", json=flag_data(), headers=headers).get_json()["id"]
    assert client.post(f"/api/v1/flags/{fid}/publish", json={"version": 1},
                       headers=headers).status_code == 200
    stale = client.patch(f"/api/v1/flags/{fid}", json={"version": 1, "level": "elevated"},
                         headers=headers)
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 2
    assert [f["id"] for f in client.get("/api/v1/flags").get_json()["flags"]] == [fid]
    app.extensions["advisor.operations"].close()


PATCH_INVALID = [
    # (body, extra headers, expected status, text the problem must contain)
    ({"level": "high"}, {}, 428, "which version"),
    ({"version": "1", "level": "high"}, {}, 422, "positive integer"),
    ({"version": 1, "status": "published"}, {}, 422, "unknown field(s): status"),
    ({"version": 1, "id": "other"}, {}, 422, "id cannot change"),
    ({"version": 1, "level": "severe"}, {}, 422, "unknown risk level"),
    ({"level": "high"}, {"If-Match": "*"}, 400, "is not a flag ETag"),
    ({"version": 2, "level": "high"}, {"If-Match": '"v1"'}, 400, "disagree"),
    ({"version": 1, "active_until": "2020-01-01T00:00:00Z",
      "active_from": "2021-01-01T00:00:00Z"}, {}, 422, "before it starts"),
]


@pytest.mark.parametrize(("body", "headers", "status", "text"), PATCH_INVALID,
                         ids=[case[3] for case in PATCH_INVALID])
def test_invalid_edits_get_a_clear_problem(client, tokens, body, headers, status, text):
    fid = _new(client, tokens.operator)["id"]
    resp = client.patch(f"/api/v1/flags/{fid}", json=body, headers={**tokens.operator, **headers})
    assert text in _problem(resp, status)["detail"]
    assert client.get(f"/api/v1/flags/{fid}", headers=tokens.viewer).get_json()["version"] == 1


@pytest.mark.parametrize(
    ("query", "text"),
    [("limit=0", "limit 0"), ("limit=many", "not a whole number"), ("before=x", "whole number")],
)
def test_bad_audit_queries_are_400(client, tokens, query, text):
    assert text in _problem(client.get(f"/api/v1/audit?{query}", headers=tokens.operator),
                            400)["detail"]


def test_baseline_flags_are_seeded_once_and_stay_editable(tmp_path, tiny_dataset):
    from advisor import create_app
    from advisor.settings import CONFIG_DIR
    from tests.store.apptools import app_config, issue_tokens

    config = app_config(tmp_path, tiny_dataset,
                        baseline_flags_path=CONFIG_DIR / "baseline_flags.toml")
    app = create_app(config)
    client, headers = app.test_client(), issue_tokens(app)
    seeded = client.get("/api/v1/flags", headers=headers.viewer).get_json()["flags"]
    assert seeded and all(f["baseline"] and f["author"] == "baseline" for f in seeded)
    assert all(f["status"] == "published" and f["version"] == 1 for f in seeded)
    first = seeded[0]["id"]
    resp = client.post(f"/api/v1/flags/{first}/withdraw", json={"version": 1},
                       headers=headers.operator)
    assert resp.status_code == 200
    again = create_app(config).test_client()  # a restart seeds nothing twice
    after = again.get("/api/v1/flags", headers=headers.viewer).get_json()["flags"]
    assert len(after) == len(seeded) - 1 and first not in {f["id"] for f in after}
    history = again.get(f"/api/v1/flags/{first}/history", headers=headers.viewer).get_json()
    assert [v["status"] for v in history["versions"]] == ["published", "withdrawn"]


def test_public_flags_survive_a_store_outage_and_say_so(flag_app, client, tokens):
    from advisor.store import Store, make_engine

    flag = _new(client, tokens.operator, status="published")
    services = flag_app.extensions["advisor.services"]
    services.flag_source.store = Store(
        make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    )
    services.refresh_flags()
    body = client.get("/api/v1/flags").get_json()
    assert [f["id"] for f in body["flags"]] == [flag["id"]]
    assert body["freshness"]["flags_available"] is False and body["freshness"]["flags_stale"]
