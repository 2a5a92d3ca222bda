""" "For you" end to end, on SQLite and PostgreSQL: import a BibTeX library over HTTP (and from
the CLI), see recommendations with their reasons, mark one not interested, see the list change;
unmatched entries are reported and bad files get a clear error."""

from __future__ import annotations

import json
import time
from html import unescape

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from community_support import PASSWORD, community_settings, token
from paperwire.cli import app as cli_app
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.recommend import model
from paperwire.recommend.repository import RecommendRepository
from paperwire.search.indexer import open_index
from paperwire.web.app import create_app
from web_helpers import card_ids, import_files

DAYS = ["2026-08-10", "2026-08-11", "2026-08-12", "2026-08-13", "2026-08-14"]
RECENT = ["2026-08-17", "2026-08-18", "2026-08-19", "2026-08-20", "2026-08-21"]


@pytest.fixture
def site(settings, shared_hf_dir):
    cfg = community_settings(settings, search_index_on_import=True, embed_on_import=True)
    store = open_store(cfg)
    import_files(store, [shared_hf_dir / f"{d}.json" for d in DAYS + RECENT])
    with TestClient(create_app(cfg, store), follow_redirects=False) as client:
        yield client, store, cfg
    store.close()


def _papers(hf_dir, day):
    return [item["paper"] for item in json.loads((hf_dir / f"{day}.json").read_text())]


def _bibtex(hf_dir) -> tuple[str, list[str]]:
    """Agents papers from before the window: by eprint, by URL, by title only; one unknown."""
    old = [p for d in DAYS for p in _papers(hf_dir, d)]
    agents = [p for p in old if "agent" in p["title"].lower()][:4]
    assert len(agents) == 4
    a, b, c, d = agents
    bib = f"""
@article{{first2026, title={{{a["title"]}}}, eprint={{{a["id"]}}}, archivePrefix={{arXiv}}}}
@misc{{second2026, title={{{b["title"]}}}, url={{https://arxiv.org/abs/{b["id"]}v2}}}}
@inproceedings{{third2026, title={{{{{c["title"].upper()}}}}}, booktitle={{Somewhere}}}}
@article{{fourth2026, title={{{d["title"]}}}, journal={{arXiv preprint arXiv:{d["id"]}}}}}
@book{{nowhere1999, title={{A Treatise on Nothing in Particular}}, year={{1999}}}}
"""
    return bib, [a["id"], b["id"], c["id"], d["id"]]


def _signup(client, name="alice"):
    html = client.get("/signup").text
    r = client.post(
        "/signup", data={"csrf_token": token(html), "username": name, "password": PASSWORD}
    )
    assert r.status_code == 303, r.text


def _upload(client, name: str, data: bytes):
    html = client.get("/me/library").text
    return client.post(
        "/me/library",
        data={"csrf_token": token(html)},
        files={"file": (name, data, "application/octet-stream")},
    )


def test_for_you_flow(site, shared_hf_dir):
    client, store, _cfg = site
    assert client.get("/for-you").status_code == 303  # signed out: sign in first
    assert 'href="/for-you"' not in client.get("/").text
    _signup(client)
    assert 'href="/for-you"' in client.get("/").text  # in the header once signed in
    assert "Nothing to go on yet" in client.get("/for-you").text

    bib, ids = _bibtex(shared_hf_dir)
    r = _upload(client, "library.bib", bib.encode())
    assert r.status_code == 200, r.text
    assert "5 entries: 4 matched (4 new in your library), 1 not found" in r.text
    assert "nowhere1999" in r.text and "A Treatise on Nothing in Particular" in r.text
    assert "(by title)" in r.text and "(by arXiv id)" in r.text
    labels = ("first2026", "second2026", "third2026", "fourth2026")
    for label, arxiv_id in zip(labels, ids, strict=True):  # each entry links to its own paper
        assert f'<a href="/papers/{arxiv_id}">{label}</a>' in r.text, label
    alice = Community.of(store).accounts.user("alice")
    assert RecommendRepository(store.engine).library_count(alice.id) == 4

    page = client.get("/for-you")
    assert page.status_code == 200
    first = card_ids(page.text)
    recent = {p["id"] for d in RECENT for p in _papers(shared_hf_dir, d)}
    assert len(first) == 20 and set(first) <= recent and not set(first) & set(ids)
    assert page.text.count("Why for you:") == 20
    assert "close to 3 papers in your library" in page.text
    assert "shares the words" in page.text and "agent" in page.text.lower()

    # not interested: the paper leaves the list and teaches the ranking
    top = first[0]
    r = client.post(
        f"/papers/{top}/not-interested",
        data={"csrf_token": token(page.text), "next": "/for-you"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/for-you"
    after = client.get("/for-you").text
    second = card_ids(after)
    assert top not in second and len(second) == 20
    assert "you marked not interested" in after
    # forged (no CSRF) and GET are refused; undo brings it back
    assert client.post(f"/papers/{first[1]}/not-interested").status_code == 403
    assert client.get(f"/papers/{first[1]}/not-interested").status_code == 405
    r = client.post(f"/papers/{top}/not-interested", data={"csrf_token": token(after), "undo": "1"})
    assert r.status_code == 303
    assert card_ids(client.get("/for-you").text) == first


def test_not_interested_pushes_similar_papers_down(site, shared_hf_dir):
    client, store, _cfg = site
    _signup(client, "bob")
    bib, _ids = _bibtex(shared_hf_dir)
    assert _upload(client, "lib.bib", bib.encode()).status_code == 200
    page = client.get("/for-you").text
    first = card_ids(page)
    for aid in first[:3]:
        r = client.post(f"/papers/{aid}/not-interested", data={"csrf_token": token(page)})
        assert r.status_code == 303
    second = card_ids(client.get("/for-you").text)
    assert not set(first[:3]) & set(second)
    assert second[:17] != first[3:20]  # the rest moved, not just shifted up


def test_bad_files_and_other_formats(site, shared_hf_dir):
    client, store, cfg = site
    _signup(client, "carol")
    for name, data, says in [
        ("empty.bib", b"   \n", "the file is empty"),
        ("photo.bib", b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        ("notes.bib", b"just some words, no entries", "no entries found in this BIBTEX file"),
        ("lib.csv", b"Author,Year\nX,2020\n", "column (export from Zotero as CSV)"),
        ("thing.xyz", b"hello there", "could not tell the format"),
    ]:
        r = _upload(client, name, data)
        assert r.status_code == 400, name
        assert "Could not import" in r.text and says in r.text, (name, r.text[-2000:])
    r = client.post("/me/library", data={"csrf_token": token(client.get("/me/library").text)})
    assert r.status_code == 400

    p = _papers(shared_hf_dir, DAYS[0])
    ris = f"TY  - JOUR\nTI  - {p[0]['title']}\nUR  - https://arxiv.org/abs/{p[0]['id']}\nER  - \n"
    r = _upload(client, "lib.ris", ris.encode())
    assert r.status_code == 200 and "1 entries: 1 matched" in r.text
    csv = f'"Key","Title","Url"\n"K1","{p[1]["title"]}",""\n"K2","Unknown paper title here",""\n'
    r = _upload(client, "zotero.csv", csv.encode())
    assert r.status_code == 200 and "2 entries: 1 matched" in r.text and "K2" in r.text


def test_cli_import(site, shared_hf_dir, tmp_path):
    client, store, cfg = site
    _signup(client, "dave")
    bib, _ids = _bibtex(shared_hf_dir)
    path = tmp_path / "dave.bib"
    path.write_text(bib)
    db = cfg.resolved_database_url
    run = CliRunner().invoke(
        cli_app, ["library", "import", "--user", "dave", str(path), "--db", db]
    )
    assert run.exit_code == 0, run.output
    assert "5 entries: 4 matched" in run.output and "not found: nowhere1999" in run.output
    dave = Community.of(store).accounts.user("dave")
    assert RecommendRepository(store.engine).library_count(dave.id) == 4
    run = CliRunner().invoke(
        cli_app, ["library", "import", "--user", "nobody", str(path), "--db", db]
    )
    assert run.exit_code == 2 and "no user named nobody" in run.output
    bad = tmp_path / "bad.bib"
    bad.write_bytes(b"")
    run = CliRunner().invoke(cli_app, ["library", "import", "--user", "dave", str(bad), "--db", db])
    assert run.exit_code == 2 and "the file is empty" in run.output


def _recommended(html: str) -> list[str]:
    """The recommended cards of /for-you (not the saved papers listed under them)."""
    return card_ids(html.split('<section class="saved-papers"')[0])


def test_save_button_trains_for_you(site, shared_hf_dir):
    client, store, _cfg = site
    old = [p for d in DAYS for p in _papers(shared_hf_dir, d)]
    agents = [p["id"] for p in old if "agent" in p["title"].lower()][:3]
    target = agents[0]
    # Signed out: the button is there, and pressing it sends the visitor to sign in.
    page = client.get(f"/papers/{target}").text
    assert f'action="/papers/{target}/save"' in page and "☆ Save" in unescape(page)
    r = client.post(f"/papers/{target}/save", data={"csrf_token": token(page), "save": "1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get(f"/papers/{target}/save").status_code == 405
    _signup(client, "erin")
    erin = Community.of(store).accounts.user("erin").id
    assert "Nothing to go on yet" in client.get("/for-you").text

    # Forged (no CSRF token) is refused; nothing is saved.
    assert client.post(f"/papers/{target}/save", data={"save": "1"}).status_code == 403
    assert RecommendRepository(store.engine).saved_arxiv_ids(erin) == set()

    # Save three agent papers: from the paper page, from a card (toggle), and via JSON.
    page = client.get(f"/papers/{target}").text
    r = client.post(
        f"/papers/{target}/save",
        data={"csrf_token": token(page), "save": "1", "next": f"/papers/{target}"},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{target}"
    page = client.get(f"/papers/{target}").text
    assert "★ Saved" in unescape(page) and 'name="undo" value="1"' in page
    r = client.post(f"/papers/{agents[1]}/save", data={"csrf_token": token(page), "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = client.post(
        f"/papers/{agents[2]}/save",
        data={"csrf_token": token(page)},
        headers={"accept": "application/json"},
    )
    assert r.json() == {"id": agents[2], "saved": True}
    assert RecommendRepository(store.engine).saved_arxiv_ids(erin) == set(agents)
    assert (
        RecommendRepository(store.engine).library_count(erin) == 0
    )  # saved papers are not "imported"

    # The saved papers train /for-you and are listed there; reasons name them.
    page = client.get("/for-you").text
    recs = _recommended(page)
    assert len(recs) == 20 and not set(recs) & set(agents)
    assert "close to 3 papers you saved" in page
    saved_part = page.split('<section class="saved-papers"')[1]
    assert set(card_ids(saved_part)) == set(agents) and "★ Saved" in unescape(saved_part)

    # Toggle off with undo=1 (form) and with ?undo=1: the list changes back.
    r = client.post(f"/papers/{agents[2]}/save", data={"csrf_token": token(page), "undo": "1"})
    assert r.status_code == 303
    r = client.post(f"/papers/{agents[1]}/save?undo=1", data={"csrf_token": token(page)})
    assert r.status_code == 303
    assert RecommendRepository(store.engine).saved_arxiv_ids(erin) == {target}
    one = client.get("/for-you").text
    assert "close to 1 paper you saved" in one and _recommended(one) != recs
    r = client.post(f"/papers/{target}/save", data={"csrf_token": token(page)})  # toggle
    assert r.status_code == 303 and RecommendRepository(store.engine).saved_arxiv_ids(erin) == set()
    assert "Nothing to go on yet" in client.get("/for-you").text
    assert (
        client.post("/papers/2101.99999/save", data={"csrf_token": token(page)}).status_code == 404
    )


def _unit(rng, dim: int, away_from: np.ndarray | None = None) -> np.ndarray:
    v = rng.standard_normal(dim).astype(np.float32)
    if away_from is not None:  # orthogonal to it
        v -= (v @ away_from) * away_from
    return v / np.linalg.norm(v)


def test_for_you_uses_contextual_vectors_where_papers_have_them(site, shared_hf_dir):
    """With contextual vectors for the reader's papers and the candidates, they decide the
    ranking (as in search); candidates without one are still scored by the static ones."""
    client, store, cfg = site
    _signup(client, "fay")
    bib, ids = _bibtex(shared_hf_dir)
    assert _upload(client, "lib.bib", bib.encode()).status_code == 200
    before = _recommended(client.get("/for-you").text)
    recent = [p["id"] for d in RECENT for p in _papers(shared_hf_dir, d)]
    outsider = next(a for a in reversed(recent) if a not in before)  # ranked below the top 20
    plain = before[0]  # gets no contextual vector: still scored, by its static vector

    index = open_index(cfg)
    rng = np.random.default_rng(3)
    e = _unit(rng, index.contextual.dim)
    pids, vecs = [], []
    for aid in ids + [a for a in recent if a != plain]:
        pids.append(store.paper_id(aid))
        vecs.append(e if aid in ids or aid == outsider else _unit(rng, len(e), away_from=e))
    index.contextual.set_vectors(pids, np.stack(vecs))
    time.sleep(1.1)  # other handles of the index re-read it at most once a second

    page = client.get("/for-you").text
    after = _recommended(page)
    assert after[0] == outsider, (outsider, after)
    assert plain in after  # scored by its static vector, not dropped
    first_card = page.split('<section class="saved-papers"')[0].split(outsider, 1)[1]
    assert "close to 3 papers in your library" in first_card.split("Why for you:")[1][:300]


def test_rank_scores_each_candidate_in_the_best_space_it_has():
    """model.rank: a contextual vector decides where a candidate has one; the others keep
    their static score; the explanation's nearest papers come from the space used."""
    rng = np.random.default_rng(5)
    s, c = _unit(rng, 8), _unit(rng, 16)
    s_far, c_far = _unit(rng, 8, away_from=s), _unit(rng, 16, away_from=c)
    reader = model.Reader(
        pos_ids=[1, 2], pos_vecs=np.stack([s, s]), pos_vec_ids=[1, 2], pos_words=[[], []]
    )
    cands = [10, 11, 12]
    # static: 10 is the close one; contextual: 11 is, and 10 is far; 12 has no contextual
    svecs = np.stack([s, s_far, s])
    words = [["x"], ["y"], ["z"]]
    static_only = model.rank(reader, cands, svecs, np.ones(3, bool), words)
    assert [x.pid for x in static_only][-1] == 11
    ctx = model.Space(
        pos_vecs=np.stack([c]),
        pos_vec_ids=[2],
        neg_vecs=np.zeros((0, 16), np.float32),
        cand_vecs=np.stack([c_far, c, np.zeros(16, np.float32)]),
        cand_has=np.array([True, True, False]),
    )
    both = model.rank(reader, cands, svecs, np.ones(3, bool), words, contextual=ctx)
    by = {x.pid: x for x in both}
    assert by[11].score > by[10].score
    assert [p for p, _ in by[11].nearest] == [2]  # from the contextual space
    assert {p for p, _ in by[12].nearest} == {1, 2}  # static: both positives
    assert by[12].score > by[10].score  # 12 keeps its static score


def test_library_adds_what_exists_once_and_skips_a_vanished_paper(store):
    from datetime import date

    from community_support import hf_paper

    store.import_records([hf_paper(n, 0, date(2026, 8, 3)) for n in (1, 2, 3)])
    ids = store.paper_ids()
    user = Community.of(store).accounts.create_user("lib-reader", PASSWORD)
    repo = RecommendRepository(store.engine)
    gone = max(ids) + 1000  # deleted between the lookup and the insert, or never there
    assert repo.add_to_library(user.id, [ids[0], gone, ids[1], ids[0]]) == 2
    assert repo.library_count(user.id) == 2
    assert repo.add_to_library(user.id, [ids[1], ids[2]]) == 1  # one already there
    assert repo.library_count(user.id) == 3
