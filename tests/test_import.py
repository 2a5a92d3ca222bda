"""The importer on real SQLite and real PostgreSQL: idempotent, merging, transactional."""

import json
import threading
import time
from datetime import UTC, date, datetime

import pytest

from paperwire.record import ORIGIN_ARXIV, ORIGIN_HF, Listing, Organization, PaperRecord
from paperwire.sources.errors import RecordError
from paperwire.sources.files import expand_paths, read_file
from paperwire.store.importer import Importer, StrictImportError


def _read(paths):
    for p in expand_paths(paths):
        yield from read_file(p)


def _arxiv(arxiv_id="2501.00001", **kw):
    base = dict(
        arxiv_id=arxiv_id,
        title="An arXiv title",
        abstract="The arXiv abstract.",
        origin=ORIGIN_ARXIV,
        authors=("Ada Lovelace", "Alan Turing"),
        categories=("cs.LG", "stat.ML"),
        version=2,
        published_at=datetime(2025, 1, 6, tzinfo=UTC),
        comments="10 pages",
    )
    base.update(kw)
    return PaperRecord(**base)


def _hf(arxiv_id="2501.00001", day=date(2025, 1, 7), upvotes=12, **kw):
    base = dict(
        arxiv_id=arxiv_id,
        title="An HF title",
        abstract="The HF abstract.",
        origin=ORIGIN_HF,
        authors=("Ada Lovelace",),
        upvotes=upvotes,
        github_repo="https://github.com/x/y",
        github_stars=5,
        keywords=("rl",),
        published_at=datetime(2025, 1, 6, tzinfo=UTC),
        listing=Listing(
            day=day, source="hf", submitted_by="ada", organization=Organization("lab", "The Lab")
        ),
    )
    base.update(kw)
    return PaperRecord(**base)


def test_august_files_import_then_reimport_changes_nothing(store, shared_hf_dir):
    files = sorted(shared_hf_dir.glob("2026-08-*.json"))
    expected_ids = {i["paper"]["id"] for f in files for i in json.loads(f.read_text())}
    first = store.import_records(_read(files))
    assert (first.new, first.rejected) == (len(expected_ids), 0)
    again = store.import_records(_read(files))
    assert (again.new, again.updated, again.unchanged) == (0, 0, len(expected_ids))
    page = store.listed(date(2026, 8, 21))
    assert page.total == 17
    assert page.items[0].upvotes >= page.items[-1].upvotes
    env = store.paper("2608.19880")
    assert env.github_repo and env.github_stars == 8 and env.organization.name == "google"


def test_merge_arxiv_wins_bibliography_hf_wins_community(store):
    store.import_records([_hf()])
    store.import_records([_arxiv()])
    paper = store.paper("2501.00001")
    assert paper.title == "An arXiv title"
    assert paper.abstract == "The arXiv abstract."
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]
    assert paper.categories == ["cs.LG", "stat.ML"]
    assert paper.github_repo == "https://github.com/x/y" and paper.upvotes == 12
    assert [lst.day for lst in paper.listings] == [date(2025, 1, 7)]
    # An HF re-import after arXiv changes nothing, in either order.
    summary = store.import_records([_hf()])
    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, 1)
    assert store.paper("2501.00001").title == "An arXiv title"


def test_arxiv_first_then_hf_gives_the_same_paper(store):
    store.import_records([_arxiv()])
    store.import_records([_hf()])
    paper = store.paper("2501.00001")
    assert paper.title == "An arXiv title" and paper.upvotes == 12
    assert paper.organization.fullname == "The Lab"


def test_upvotes_never_go_down_and_new_listing_counts_as_update(store):
    store.import_records([_hf(upvotes=30)])
    s = store.import_records([_hf(upvotes=10, day=date(2025, 1, 8))])
    assert (s.new, s.updated) == (0, 1)
    paper = store.paper("2501.00001")
    assert paper.upvotes == 30
    assert [lst.day for lst in paper.listings] == [date(2025, 1, 7), date(2025, 1, 8)]


def test_versioned_ids_merge_into_one_paper(store):
    store.import_records(
        [_arxiv("2501.00001v1", version=1), _arxiv("arXiv:2501.00001v3", version=3)]
    )
    assert store.counts().papers == 1
    assert store.paper("2501.00001").version == 3


def test_bad_records_are_rejected_and_counted_good_ones_land(store):
    items = [_arxiv("2501.00001"), RecordError("f.jsonl:2", "malformed JSON"), _arxiv("2501.00002")]
    s = store.import_records(items)
    assert (s.new, s.rejected) == (2, 1)
    assert s.errors == ["f.jsonl:2: malformed JSON"]


def test_strict_aborts_with_no_change_at_all(store):
    items = [_arxiv(f"2501.{i:05d}") for i in range(1, 6)]
    items.insert(4, RecordError("f.jsonl:5", "malformed JSON"))
    with pytest.raises(StrictImportError, match="f.jsonl:5"):
        store.import_records(items, strict=True, batch_size=2)
    assert store.counts().papers == 0


def test_crash_mid_import_keeps_committed_batches_and_loses_nothing_on_rerun(store):
    def exploding():
        for i in range(1, 8):
            if i == 6:
                raise RuntimeError("killed")
            yield _arxiv(f"2501.{i:05d}")

    with pytest.raises(RuntimeError):
        store.import_records(exploding(), batch_size=2)
    assert store.counts().papers == 4  # two committed batches; the third was rolled back
    s = store.import_records([_arxiv(f"2501.{i:05d}") for i in range(1, 8)], batch_size=2)
    assert (s.new, s.unchanged) == (3, 4)


def test_a_run_hands_each_batch_s_ids_on_and_keeps_them_only_when_strict(store):
    """Hooks see every batch's changed papers as it commits; the run's total keeps no list
    of them (an import of 2.9M papers held 100 MB of ids to its end), except with
    ``strict``, whose hooks run once, at the end, with all of them."""
    seen: list[int] = []
    importer = Importer(store.engine, batch_size=2, after_commit=[lambda ids, _: seen.extend(ids)])
    total = importer.run([_arxiv(f"2501.{i:05d}") for i in range(1, 6)])
    assert (total.new, len(seen), total.changed_ids) == (5, 5, [])
    seen.clear()
    total = importer.run([_arxiv(f"2502.{i:05d}") for i in range(1, 4)], strict=True)
    assert len(seen) == 3 and sorted(total.changed_ids) == sorted(seen)


def test_arxiv_only_papers_stay_off_the_curated_list(store):
    store.import_records([_arxiv("2501.00009", published_at=datetime(2025, 1, 7, tzinfo=UTC))])
    store.import_records([_hf()])
    assert [p.arxiv_id for p in store.listed(date(2025, 1, 7)).items] == ["2501.00001"]
    assert store.arxiv_categories_on(date(2025, 1, 7)) == [("cs.LG", 1), ("stat.ML", 1)]
    assert [p.arxiv_id for p in store.arxiv_published(date(2025, 1, 7), "cs.LG").items] == [
        "2501.00009"
    ]


def test_the_documents_an_import_hands_on_equal_the_store_s(store, shared_hf_dir):
    """The search index takes a batch's new papers from the importer, not from the store:
    each must equal what ``Store.search_docs`` reads back (listing day and organization,
    the arXiv day when unlisted, upvotes, the row's version)."""
    handed: dict = {}
    read_back: dict = {}

    def listener(ids, docs):  # as each batch commits
        assert set(docs) <= set(ids)
        handed.update(docs)
        read_back.update((d.id, d) for d in store.search_docs(list(docs)))

    store.import_listeners.append(listener)
    lab, other = Organization("lab", "The Lab"), Organization("other", "Other")
    records = [
        _arxiv("2501.00010"),  # unlisted: its arXiv day
        _arxiv("2501.00011", published_at=None),  # no day at all
        _hf("2501.00012", day=date(2025, 1, 9), listing=Listing(date(2025, 1, 9), "hf")),
        _hf("2501.00012", day=date(2025, 1, 8)),  # an earlier listing, with an organization
        _hf(
            "2501.00013",
            listing=Listing(date(2025, 1, 3), "community", organization=None),
        ),
        _hf("2501.00013", listing=Listing(date(2025, 1, 5), "hf", organization=other)),
        _hf("2501.00014", listing=Listing(date(2025, 1, 4), "hf", organization=lab)),
        _hf("2501.00014", listing=Listing(date(2025, 1, 4), "hf", organization=other)),
        _arxiv("2501.00014"),
        _hf("2501.00015", abstract="", keywords=(), upvotes=None, listing=None),
    ]
    store.import_records(records, batch_size=4)
    files = sorted(shared_hf_dir.glob("2026-08-*.json"))
    store.import_records(_read(files))
    assert len(handed) > 100
    assert handed == read_back
    by_arxiv = {d.arxiv_id: d for d in handed.values()}
    assert by_arxiv["2501.00010"].day == date(2025, 1, 6)
    assert by_arxiv["2501.00011"].day is None
    assert (by_arxiv["2501.00013"].day, by_arxiv["2501.00013"].organization) == (
        date(2025, 1, 3),
        "other",
    )
    assert by_arxiv["2501.00012"].day == date(2025, 1, 8)
    # papers already in the store are left to the listener: it reads them back
    again: dict = {}
    store.import_listeners[-1] = lambda ids, docs: again.update(docs)
    store.import_records([_arxiv("2501.00015")])
    assert again == {}


_COUNTED = (
    "SELECT p.published_on, c.category, count(*) FROM paper_categories c "
    "JOIN papers p ON p.id = c.paper_id WHERE p.in_arxiv = true AND p.published_on IS NOT NULL "
    "GROUP BY p.published_on, c.category"
)


def _day_categories(store) -> tuple[dict, dict]:
    """What the importer kept in day_categories, and what counting the papers gives."""
    from sqlalchemy import text

    with store.engine.connect() as c:
        kept = c.execute(text("SELECT day, category, papers FROM day_categories WHERE papers > 0"))
        counted = c.execute(text(_COUNTED))
        return (
            {(str(d), cat): n for d, cat, n in kept},
            {(str(d), cat): n for d, cat, n in counted},
        )


def test_day_categories_follow_every_change_of_day_categories_and_source(store):
    jan6, jan9 = datetime(2025, 1, 6, tzinfo=UTC), datetime(2025, 1, 9, tzinfo=UTC)
    store.import_records(
        [
            _arxiv("2501.00001"),  # cs.LG, stat.ML on Jan 6
            _arxiv("2501.00002", categories=("cs.LG", "cs.LG", "cs.CL")),  # a repeated category
            _hf("2501.00003"),  # HF only: no arXiv day, not counted
            _arxiv("2501.00004", published_at=None),  # no day: not counted
        ]
    )
    kept, counted = _day_categories(store)
    assert (
        kept
        == counted
        == {
            ("2025-01-06", "cs.LG"): 2,
            ("2025-01-06", "stat.ML"): 1,
            ("2025-01-06", "cs.CL"): 1,
        }
    )
    store.import_records(
        [
            _arxiv("2501.00001", categories=("cs.CV",)),  # new categories
            _arxiv("2501.00002", categories=("cs.LG", "cs.CL"), published_at=jan9),  # moved
            _arxiv("2501.00003", categories=("cs.RO",), published_at=jan6),  # now on arXiv
            _arxiv("2501.00004", published_at=jan9),  # now dated
            _arxiv("2501.00001", categories=("cs.CV",)),  # the same twice in one batch
        ]
    )
    kept, counted = _day_categories(store)
    assert (
        kept
        == counted
        == {
            ("2025-01-06", "cs.CV"): 1,
            ("2025-01-06", "cs.RO"): 1,
            ("2025-01-09", "cs.LG"): 2,
            ("2025-01-09", "cs.CL"): 1,
            ("2025-01-09", "stat.ML"): 1,
        }
    )
    again = store.import_records([_arxiv("2501.00001", categories=("cs.CV",))])
    assert again.unchanged == 1 and _day_categories(store)[0] == kept  # idempotent
    assert store.arxiv_categories_on(date(2025, 1, 9)) == [
        ("cs.LG", 2),
        ("cs.CL", 1),
        ("stat.ML", 1),
    ]
    assert store.arxiv_categories_on(date(2025, 1, 7)) == []


def _second_importer_meanwhile(store, first: list, second: list):
    """Importer A writes ``first`` and holds its batch's transaction open; meanwhile the
    store's own importer (B) imports ``second``; then A commits.  B's summary, or what it
    raised."""
    holding, release = threading.Event(), threading.Event()

    def hold(_session, _ids):
        holding.set()
        assert release.wait(30)

    a = threading.Thread(target=Importer(store.engine, hooks=[hold]).run, args=(first,))
    a.start()
    assert holding.wait(30)
    got: dict = {}

    def run_b():
        try:
            got["summary"] = store.import_records(second)
        except Exception as exc:  # the test reads it
            got["error"] = exc

    b = threading.Thread(target=run_b)
    b.start()
    time.sleep(0.5)  # long enough for B to read the papers, if nothing holds it back
    release.set()
    a.join(30)
    b.join(30)
    assert not a.is_alive() and not b.is_alive()
    return got.get("summary") or got["error"]


def test_two_importers_at_once_count_a_change_once(store):
    """Two importers change one paper at the same moment (two nodes syncing, a sync beside
    a manual import): the second reads it after the first committed, so ``day_categories``
    moves once, not twice."""
    store.import_records([_arxiv("2501.00001")])  # cs.LG, stat.ML on Jan 6
    moved = [_arxiv("2501.00001", categories=("cs.CV",))]
    got = _second_importer_meanwhile(store, moved, moved)
    assert not isinstance(got, Exception), got
    assert got.unchanged == 1  # B saw A's change
    kept, counted = _day_categories(store)
    assert kept == counted == {("2025-01-06", "cs.CV"): 1}


def test_two_importers_adding_one_paper_at_once_both_succeed(store):
    """Both add the same new paper: the second finds it (no duplicate-key failure)."""
    new = [_arxiv("2501.00009", categories=("cs.RO",))]
    got = _second_importer_meanwhile(store, new, new)
    assert not isinstance(got, Exception), got
    assert (got.new, got.unchanged) == (0, 1)
    assert store.counts().papers == 1
    assert _day_categories(store)[0] == {("2025-01-06", "cs.RO"): 1}


def test_recount_repairs_drifted_day_categories(store, monkeypatch):
    from sqlalchemy import text
    from typer.testing import CliRunner

    from paperwire import ops_cli
    from paperwire.cli import app

    store.import_records(
        [
            _arxiv("2501.00001"),
            _arxiv("2501.00002", categories=("cs.LG", "cs.CL")),
            _arxiv("2501.00003", published_at=datetime(2025, 1, 9, tzinfo=UTC)),
        ]
    )
    kept, counted = _day_categories(store)
    assert kept == counted and len(counted) == 5
    with store.engine.begin() as c:  # a drift: a count doubled, one lost, one made up
        c.execute(text("UPDATE day_categories SET papers = 2 * papers WHERE category = 'cs.LG'"))
        c.execute(text("DELETE FROM day_categories WHERE category = 'cs.CL'"))
        c.execute(
            text("INSERT INTO day_categories (day, category, papers) VALUES ('2025-01-07', 'x', 3)")
        )
    assert _day_categories(store)[0] != counted
    monkeypatch.setattr(ops_cli.console, "width", 200)
    url = store.engine.url.render_as_string(hide_password=False)
    done = CliRunner().invoke(app, ["recount", "--db", url])
    assert done.exit_code == 0, done.output
    assert "day_categories: 5 (day, category) counts" in done.output
    assert _day_categories(store) == (counted, counted)
