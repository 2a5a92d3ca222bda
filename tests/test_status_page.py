"""The administrators' /status page (issue #17 item 5): last syncs, the embedding backlog and
the index's freshness, as HTML and JSON; closed to everyone else.  Both databases."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from community_support import PASSWORD, hf_paper, token
from paperwire.community.passwords import hash_password
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.store.importer import ImportSummary
from paperwire.store.sync_state import SyncStore
from paperwire.web.app import create_app


@pytest.fixture
def site(settings):
    cfg = settings.model_copy(update={"argon2_profile": "CHEAPEST", "embed_on_import": False})
    store = open_store(cfg)
    store.import_records([hf_paper(n, n, date(2026, 8, 3)) for n in (1, 2, 3)])
    for name in ("root", "reader"):
        Community.of(store).accounts.create_user(name, hash_password(PASSWORD, "CHEAPEST"))
    Community.of(store).accounts.set_admin("root")
    sync = SyncStore(store.engine)
    run = sync.start_run("hf", {"since": "2026-08-01"})
    done = ImportSummary()
    done.new = 3
    sync.update_run(run, done, batches=3, status="ok")
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        yield client, store, cfg
    store.close()


def _sign_in(client, username: str) -> None:
    page = client.get("/login").text
    r = client.post(
        "/login", data={"csrf_token": token(page), "username": username, "password": PASSWORD}
    )
    assert r.status_code == 303


def test_status_is_for_administrators(site):
    client, _store, _cfg = site
    r = client.get("/status")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/status")
    assert client.get("/api/status", headers={"Accept": "application/json"}).status_code == 401
    _sign_in(client, "reader")
    assert client.get("/status").status_code == 403
    assert client.get("/api/status", headers={"Accept": "application/json"}).status_code == 403


def test_status_shows_syncs_backlog_and_freshness(site):
    client, store, cfg = site
    _sign_in(client, "root")
    page = client.get("/status")
    assert page.status_code == 200
    html = page.text
    assert '<h2 id="runs-h">Last syncs</h2>' in html
    row = html.split('<table class="status" id="runs">', 1)[1].split("</table>", 1)[0]
    assert "<td>hf</td><td>ok</td><td>3</td>" in row
    assert "Papers in the database</th><td>3</td>" in html
    assert "(3 to embed)" in html  # no contextual vector yet: all three wait for one
    body = client.get("/api/status").json()
    ix = body["index"]
    assert ix["papers"] == ix["lexical"] == 3  # indexed at import, on this node
    assert ix["contextualBacklog"] == 3 - ix["contextual"] == 3
    assert body["runs"][0]["source"] == "hf" and body["runs"][0]["new"] == 3
    assert {s["source"] for s in body["sources"]} >= {"hf", "arxiv", "oai"}
    # freshness: no follower round yet, then one, then a paper the index has not taken in
    assert ix["indexWatermark"] is None and "not followed yet" in html
    from paperwire.search.follow import IndexFollower
    from paperwire.search.indexer import open_index

    follower = IndexFollower(open_index(cfg), store)
    follower.step()
    after = client.get("/api/status").json()["index"]
    assert after["behindSeconds"] == 0 and after["indexWatermark"] == after["databaseChanged"]
    assert '<td id="freshness">up to date</td>' in client.get("/status").text
    store.import_records([hf_paper(9, 1, date(2026, 8, 4))])
    later = client.get("/api/status").json()["index"]
    assert later["papers"] == 4 and later["behindSeconds"] > 0
