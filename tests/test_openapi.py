"""The OpenAPI document says what the server does: schemathesis generates requests from it
for every JSON operation, signed out and signed in, on SQLite and PostgreSQL, and every
answer must be documented (status code, content type, body schema) and never a 5xx.

Signed in, the operations whose answer depends on who asks (:data:`PER_READER`) are fuzzed
again; every other one must answer a signed-in reader exactly as a signed-out one (checked on
known requests), so fuzzing it twice would only repeat the same answers.

Bounded and repeatable: a fixed seed and ``EXAMPLES`` examples per operation."""

from __future__ import annotations

import socket

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from community_support import PASSWORD, community_settings
from digest_data import load
from paperwire.community.passwords import hash_password
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.web.app import create_app

EXAMPLES = 200
# no 5xx; and every status code, content type, header and body is the one documented.
# (positive_data_acceptance is left out: a schema-valid query of operators only, such as
# q="-", is rightly refused with a 400 that JSON Schema cannot predict.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# The operations that read the session (the reader, their votes, collections or role).
PER_READER = {
    "GET /api/whoami",
    "POST /api/papers/{arxiv_id}/upvote",
    "POST /api/papers/submit",
    "GET /api/sync",
    "GET /api/collections/{cid}",
}
# Known requests to every other operation, whose answers must not depend on the reader.
SAME_FOR_ALL = [
    ("/api/papers/{arxiv_id}", {"path_parameters": {"arxiv_id": "2608.00001"}}),
    ("/api/papers/search", {"query": {"q": "skill learning"}}),
    ("/api/papers/search", {"query": {"q": "skill", "mode": "lexical", "sort": "upvotes"}}),
    ("/api/daily_papers", {"query": {"date": "2026-08-21"}}),
    ("/api/daily_papers", {"query": {"week": "2026-W34", "sort": "trending"}}),
    ("/api/papers", {"query": {"limit": "3"}}),
    ("/api/authors/{name}", {"path_parameters": {"name": "Ada Lovelace"}}),
    ("/api/trend", {"query": {"q": "skill"}}),
]


def _closed_port() -> int:
    """A loopback port nobody listens on: submissions fail fast with 503 (no network)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site(settings):
    port = _closed_port()
    cfg = community_settings(
        settings,
        arxiv_api_url=f"http://127.0.0.1:{port}/api/query",
        http_timeout=2.0,
        login_rate_limit="100000/minute",
        login_account_rate_limit="100000/minute",
        search_index_on_import=True,  # lexical search answers with items
    )
    store = open_store(cfg)
    load(store)
    Community.of(store).accounts.create_user("alice", hash_password(PASSWORD, cfg.argon2_profile))
    app = create_app(cfg, store)
    yield app
    store.close()


def _signed_in_headers(app) -> dict[str, str]:
    with TestClient(app) as client:
        token = client.get("/api/whoami").json()["csrfToken"]
        r = client.post(
            "/login",
            data={"csrf_token": token, "username": "alice", "password": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:300]
        who = client.get("/api/whoami").json()
        assert who["name"] == "alice"
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return {"Cookie": cookie, "X-CSRF-Token": who["csrfToken"]}


def _fuzz(op, headers: dict[str, str]) -> list[int]:
    """Run ``EXAMPLES`` generated requests against one operation; the statuses seen."""
    calls: list[int] = []

    @seed(20261129)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=op.as_strategy())
    def run(case):
        response = case.call(headers={**(case.headers or {}), **headers})
        case.validate_response(response, checks=CHECKS)
        calls.append(response.status_code)

    run()
    assert calls, f"{op.label}: no request was made"
    return sorted(set(calls))


@pytest.mark.parametrize("who", ["signed-out", "signed-in"])
def test_every_json_operation_answers_as_documented(site, who):
    schema = schemathesis.openapi.from_asgi("/openapi.json", site)
    headers = _signed_in_headers(site) if who == "signed-in" else {}
    operations = list(schema.get_all_operations())
    assert len(operations) >= 7  # every JSON route is in the document
    failures: list[str] = []
    seen: dict[str, list[int]] = {}
    fuzzed = [r.ok() for r in operations]
    if who == "signed-in":
        fuzzed = [op for op in fuzzed if op.label in PER_READER]
        assert {op.label for op in fuzzed} == PER_READER, "a PER_READER operation is gone"
    for op in fuzzed:
        try:
            seen[op.label] = _fuzz(op, headers)
        except Exception as exc:  # every operation runs; each failure is reported
            failures.append(f"{op.label}: {type(exc).__name__}: {str(exc)[:800]}")
    assert not failures, "\n\n".join(failures)
    # random ids never hit a real paper: the success answers are checked on known ones
    known = [
        ("/api/papers/{arxiv_id}", "GET", {"path_parameters": {"arxiv_id": "2608.00001"}}, 200),
        ("/api/papers/search", "GET", {"query": {"q": "skill learning"}}, 200),
        ("/api/daily_papers", "GET", {"query": {"date": "2026-08-21"}}, 200),
    ]
    if who == "signed-in":
        known += [
            ("/api/papers/{arxiv_id}/upvote", "POST",
             {"path_parameters": {"arxiv_id": "2608.00001"}, "query": {"vote": "1"}}, 200),
            ("/api/papers/submit", "POST", {"body": {"paperId": "2608.00001"}}, 409),
        ]  # fmt: skip
    for path, method, parts, status in known:
        case = schema[path][method].Case(**parts)
        response = case.call(headers={**(case.headers or {}), **headers})
        assert response.status_code == status, (path, response.text[:300])
        case.validate_response(response, checks=CHECKS)
        if status == 200 and isinstance(response.json(), list):
            assert response.json(), path  # a list with items, so their schema was checked
    if who == "signed-in":  # the operations not fuzzed again answer as they do signed out
        same = {path for path, _ in SAME_FOR_ALL}
        labels = {f"GET {path}" for path in same}
        assert labels | PER_READER == {op.label for op in (r.ok() for r in operations)}, (
            "a new operation: add it to PER_READER or to SAME_FOR_ALL"
        )
        for path, parts in SAME_FOR_ALL:
            case = schema[path]["GET"].Case(**parts)
            out = case.call(headers=dict(case.headers or {}))
            mine = case.call(headers={**(case.headers or {}), **headers})
            assert out.status_code == mine.status_code == 200, (path, mine.text[:300])
            case.validate_response(mine, checks=CHECKS)
            assert mine.json() == out.json(), f"{path} answers a signed-in reader differently"
