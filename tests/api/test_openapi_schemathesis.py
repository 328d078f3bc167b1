"""The OpenAPI document against the implementation: schemathesis generates requests
(a bounded number per operation) and checks every response against the document.

Zero server errors and zero schema violations are required.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from advisor.api.openapi import DOCUMENT
from advisor.services import FileFlagSource
from tests.store.apptools import tiny_dataset  # noqa: F401 - fixture
from tests.web.conftest import LOZOVA_KRAMATORSK_HIGH, make_app, write_flags

EXAMPLES_PER_OPERATION = 40
# Bodies are asked for uncompressed: schemathesis' WSGI transport does not undo gzip (a real
# client does; tests/web/test_compression.py covers compression).
UNCOMPRESSED = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory):
    from tests.tiny_network import build_tiny_network

    tmp = tmp_path_factory.mktemp("openapi")
    flags = write_flags(tmp / "flags.json", [LOZOVA_KRAMATORSK_HIGH])
    # No rate limit here: schemathesis sends many requests from one address on purpose.
    return make_app(tmp, build_tiny_network(), FileFlagSource([flags]), rate_limit_per_minute=0)


@pytest.fixture(scope="module")
def api_schema(api_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)


def _operations() -> list[tuple[str, str]]:
    # Read from the shipped document itself, so a new endpoint is tested once documented.
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted(
        (path, m.upper()) for path, item in document["paths"].items() for m in item if m in methods
    )


# schemathesis' lazy pytest fixture loader does not work with pytest 9 (it sets a private
# node attribute), so each operation's Hypothesis strategy is driven directly. Writes are
# exercised without a token here (they must answer 401 as documented); their behaviour
# with tokens is tested in tests/api/test_flags.
@pytest.mark.parametrize(("path", "method"), _operations())
def test_api_matches_its_document(api_schema, path, method):
    operation = api_schema[path][method]
    examples = EXAMPLES_PER_OPERATION if method == "GET" else EXAMPLES_PER_OPERATION // 4

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case):
        # Every check but "schema-valid data is accepted": a station text must name a
        # station (404 otherwise) and contain letters (400), and a departure must lie within
        # a year; rules a JSON schema cannot state. Everything else must hold.
        case.call_and_validate(
            headers=UNCOMPRESSED,
            excluded_checks=[checks.positive_data_acceptance],
        )

    check()


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/routes", {"from": "kyiv", "to": "kramatorsk"}),
        ("/routes", {"from": "Київ", "to": "Запоріжжя", "modes": "bus", "lang": "en"}),
        ("/routes", {"from": "Суми", "to": "Дніпро", "tolerance": "strict", "at": "2030-01-01"}),
        ("/routes", {"from": "Kramtsk", "to": "Суми"}),
        ("/stations", {"q": "Харків", "limit": 5}),
        ("/stations", {"q": "Lozova"}),
        ("/flags", {}),
        ("/flags", {"at": "2030-01-01T00:00:00+02:00"}),
    ],
)
def test_real_answers_match_the_document(api_schema, path, query):
    """Random text rarely names a station, so check real answers against the document too."""
    case = api_schema[path]["GET"].Case(query=query)
    response = case.call_and_validate(
        headers=UNCOMPRESSED,
        excluded_checks=[checks.positive_data_acceptance],
    )
    assert response.status_code in (200, 400, 404)
    if path == "/stations":
        assert response.json()["stations"], "a real name must find stations"
    if path == "/flags":
        assert response.json()["flags"], "the baseline flags are public"


# --- with an operator token: the write endpoints too (issue 13) ---------------------------

KNOWN_FLAG = "t-known"


@pytest.fixture(scope="module")
def operator_api(tmp_path_factory, tiny_dataset):  # noqa: F811
    """A store-backed app, an operator token and one existing draft flag to edit."""
    from advisor import create_app
    from tests.store.apptools import app_config, issue_tokens
    from tests.store.factories import flag_data

    folder = tmp_path_factory.mktemp("openapi-writes")
    app = create_app(app_config(folder, tiny_dataset, rate_limit_per_minute=0))
    tokens = issue_tokens(app)
    # Enough attempts for the whole run: the sign-in limiter is not what is tested here.
    tokens.ops.limiter.limit = 10**6
    created = app.test_client().post(
        "/api/v1/flags", json=flag_data(id=KNOWN_FLAG), headers=tokens.operator
    )
    assert created.status_code == 201
    yield app, schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), tokens.operator
    app.extensions["advisor.operations"].close()


def _token_operations() -> list[tuple[str, str]]:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return [
        (path, method)
        for path, method in _operations()
        if document["paths"][path][method.lower()].get("security")
    ]


@pytest.mark.parametrize(("path", "method"), _token_operations())
@pytest.mark.parametrize("flag", ["generated", KNOWN_FLAG])
def test_api_with_an_operator_token_matches_its_document(operator_api, path, method, flag):
    """Zero server errors and zero schema violations with a valid operator token, on random
    flag ids and on an existing flag (where versions, states and bodies get exercised)."""
    if flag == KNOWN_FLAG and "{flag_id}" not in path:
        pytest.skip("no flag id in this path")
    _app, schema, headers = operator_api
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION // 2,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case):
        if flag == KNOWN_FLAG:
            case.path_parameters = {**(case.path_parameters or {}), "flag_id": KNOWN_FLAG}
        case.headers = {**(case.headers or {}), **headers, **UNCOMPRESSED}
        response = case.call_and_validate(
            excluded_checks=[checks.positive_data_acceptance, checks.ignored_auth]
        )
        assert response.status_code < 500

    check()


def test_real_writes_match_the_document(operator_api):
    """Random bodies are mostly refused (422); a real edit session is checked too."""
    from tests.store.factories import flag_data

    _app, schema, headers = operator_api
    body = flag_data(id="t-real", reason_en="Strikes\non the line")

    def call(path, method, status, **parts):
        case = schema[path][method].Case(headers={**headers, **UNCOMPRESSED}, **parts)
        response = case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])
        assert response.status_code == status, response.text
        return response.json()

    call("/flags/preview", "POST", 200, body={k: v for k, v in body.items() if k != "status"})
    call("/flags", "POST", 201, body=body)
    ids = {"flag_id": "t-real"}
    call("/flags/{flag_id}", "PATCH", 200, path_parameters=ids,
         body={"version": 1, "level": "suspended"})  # fmt: skip
    call("/flags/{flag_id}", "PATCH", 409, path_parameters=ids, body={"version": 1})
    call("/flags/{flag_id}/publish", "POST", 200, path_parameters=ids, body={"version": 2})
    call("/flags/{flag_id}/withdraw", "POST", 200, path_parameters=ids, body={"version": 3})
    history = call("/flags/{flag_id}/history", "GET", 200, path_parameters=ids)
    assert [v["status"] for v in history["versions"]] == [
        "draft", "draft", "published", "withdrawn",
    ]
    call("/audit", "GET", 200, query={"object": "t-real", "before": str(2**63 - 1)})
