"""Collections (issue #17 item 2): make one, add papers from a card, reorder, annotate,
remove; private ones stay private; public ones have a page, RSS/Atom, JSON and BibTeX.
Over HTTP with real CSRF tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import bibtexparser
import feedparser
import pytest
from fastapi.testclient import TestClient

from community_support import PASSWORD, hf_paper, token
from paperwire.collections.repository import MAX_NAME
from paperwire.context import open_store
from paperwire.web.app import create_app

DAY = date(2026, 8, 3)
HOSTILE = "Breaking {BibTeX} } with % and \\end{document} & <script>x</script>"


@pytest.fixture
def site(settings):
    cfg = settings.model_copy(update={"argon2_profile": "CHEAPEST", "embed_on_import": False})
    store = open_store(cfg)
    store.import_records(
        [hf_paper(n, n, DAY, authors=("Ada Lovelace",)) for n in (1, 2)]
        + [hf_paper(3, 3, DAY, title=HOSTILE, authors=("Mallory {x}",))]
    )
    app = create_app(cfg, store)
    with (
        TestClient(app, follow_redirects=False) as ann,
        TestClient(app, follow_redirects=False) as bob,
    ):
        for client, name in ((ann, "ann"), (bob, "bob")):
            page = client.get("/signup").text
            r = client.post(
                "/signup", data={"csrf_token": token(page), "username": name, "password": PASSWORD}
            )
            assert r.status_code == 303
        yield ann, bob, app
    store.close()


def _post(client, url: str, page: str = "/collections", **data):
    return client.post(url, data={"csrf_token": token(client.get(page).text), **data})


def _order(client, cid: int) -> list[str]:
    return [p["paper"]["id"] for p in client.get(f"/api/collections/{cid}").json()["papers"]]


def test_make_fill_reorder_annotate_and_share(site):
    ann, bob, app = site
    assert "No collection yet" in ann.get("/collections").text
    assert _post(ann, "/collections", name="  ").status_code == 400
    assert _post(ann, "/collections", name="x" * (MAX_NAME + 1)).status_code == 400
    r = _post(ann, "/collections", name="Engines", description="Reading group")
    assert r.status_code == 303
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    # every card has the form once the reader has a collection; not for anyone else
    day = ann.get(f"/papers/date/{DAY}").text
    assert day.count('<form class="collect"') == 3 and ">Engines</option>" in day
    assert 'class="collect"' not in bob.get(f"/papers/date/{DAY}").text
    for aid in ("2608.00001", "2608.00002", "2608.00003", "2608.00001"):  # the last: no-op
        r = _post(ann, "/collections/add", f"/papers/date/{DAY}", collection=str(cid),
                  arxiv_id=aid, next=f"/papers/date/{DAY}")  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == f"/papers/date/{DAY}"
    # private: the owner sees it, nobody else can tell it exists
    page = ann.get(f"/collections/{cid}")
    assert page.status_code == 200 and page.text.count('class="collection-item"') == 3
    for url in (f"/collections/{cid}", f"/collections/{cid}.bib", f"/collections/{cid}.xml"):
        assert bob.get(url).status_code == 404
    assert bob.get(f"/api/collections/{cid}").status_code == 404
    # someone else's collection is not theirs to change
    r = _post(bob, "/collections/add", "/collections", collection=str(cid), arxiv_id="2608.00002")
    assert r.status_code == 404
    here = f"/collections/{cid}"
    assert _post(bob, f"{here}/items/2608.00001/remove", "/collections").status_code == 404
    assert _post(bob, f"{here}/delete", "/collections").status_code == 404

    # the collection's page adds by arXiv id too (a card lists the 10 newest collections)
    assert 'name="arxiv_id" required' in ann.get(f"/collections/{cid}").text
    r = _post(ann, "/collections/add", f"/collections/{cid}", collection=str(cid),
              arxiv_id="arXiv:2608.00002v1", next=f"/collections/{cid}")  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/collections/{cid}"
    # reorder, annotate, remove; then share
    assert _post(ann, f"{here}/items/2608.00003/up", here).status_code == 303
    assert _post(ann, f"{here}/items/2608.00001/up", here).status_code == 303  # first: stays
    r = _post(ann, f"{here}/items/2608.00001/note", here, note="Start here & {skim}")
    assert r.status_code == 303 and r.headers["location"] == f"{here}#p-2608.00001"
    assert _post(ann, f"{here}/items/2608.00002/remove", here).status_code == 303
    assert _post(ann, f"{here}/items/2608.00002/up", here).status_code == 404  # not there
    assert ann.get(f"{here}/items/2608.00001/up").status_code == 405  # no change on GET
    r = _post(ann, f"{here}/settings", here, name="Engines", description="Week 3", public="1")
    assert r.status_code == 303
    assert _order(bob, cid) == ["2608.00001", "2608.00003"]
    body = bob.get(f"/api/collections/{cid}").json()
    assert body["owner"] == "ann" and body["description"] == "Week 3"
    assert body["papers"][0]["note"] == "Start here & {skim}"
    html = bob.get(here).text
    # the papers-per-month chart and its series (both papers were listed in August)
    series = bob.get("/api/trend", params={"collection": cid, "months": 3}).json()["months"]
    assert [(m["month"], m["papers"]) for m in series] == [
        ("2026-06", 0),
        ("2026-07", 0),
        ("2026-08", 2),
    ]
    assert '<figure class="trend"' in html
    assert bob.get("/api/trend", params={"collection": 999999}).status_code == 404
    assert "Start here &amp; {skim}" in html and "Move “" not in html  # no owner tools
    assert "&lt;script&gt;" in html and "<script>x" not in html
    feed = feedparser.parse(bob.get(f"{here}.atom").content)
    assert not feed.bozo and [e.link.rsplit("/", 1)[1] for e in feed.entries] == [
        "2608.00001",
        "2608.00003",
    ]
    bib = bob.get(f"{here}.bib")
    assert bib.headers["content-type"].startswith("application/x-bibtex")
    parsed = bibtexparser.parse_string(bib.text)
    assert not parsed.failed_blocks
    assert [e.fields_dict["eprint"].value for e in parsed.entries] == ["2608.00001", "2608.00003"]
    assert "Start here" in parsed.entries[0].fields_dict["note"].value
    assert "\\end" not in bib.text  # a hostile title cannot close the field or the file
    # make it private again, then delete it
    _post(ann, f"{here}/settings", here, name="Engines", description="", public="")
    assert bob.get(here).status_code == 404
    assert _post(ann, f"{here}/delete", here).status_code == 303
    assert ann.get(here).status_code == 404
    assert "No collection yet" in ann.get("/collections").text
    for huge in ("/collections/99999999999999999999", "/api/collections/99999999999999999999"):
        assert ann.get(huge).status_code == 404  # not an overflow in the database


def test_collections_build_on_save_and_library_import(site):
    ann, _bob, _app = site
    day = f"/papers/date/{DAY}"
    assert _post(ann, "/collections/from-saved").status_code == 400  # nothing saved yet
    for aid in ("2608.00001", "2608.00002"):
        r = _post(ann, f"/papers/{aid}/save", day, save="1", next=day)
        assert r.status_code == 303
    r = _post(ann, "/collections/from-saved")
    assert r.status_code == 303
    saved = int(r.headers["location"].rsplit("/", 1)[1])
    assert ann.get(f"/api/collections/{saved}").status_code == 404  # private: not in the API
    page = ann.get(f"/collections/{saved}").text
    assert "<h1>Saved papers</h1>" in page and page.count('class="collection-item"') == 2

    r = _post(ann, "/collections", name="From Zotero")
    target = int(r.headers["location"].rsplit("/", 1)[1])
    bib = b"@article{a, title={Paper 3}, eprint={2608.00003}}\n@article{b, title={Nope}}\n"
    form = ann.get("/me/library").text
    assert f'<option value="{target}">From Zotero</option>' in form
    r = ann.post(
        "/me/library",
        data={"csrf_token": token(form), "collection": str(target)},
        files={"file": ("refs.bib", bib, "application/x-bibtex")},
    )
    assert r.status_code == 200
    page = ann.get(f"/collections/{target}").text
    assert page.count('class="collection-item"') == 1 and "2608.00003" in page
