"""The live source clients over real HTTP against the loopback replay server."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime

import pytest

from conftest import FIXTURES, HF_DIR, needs_shared
from paperwire.record import PaperRecord
from paperwire.settings import Settings
from paperwire.sources import hf_daily
from paperwire.sources.arxiv_api import (
    ArxivApiError,
    ArxivClient,
    PaperNotFound,
    fetch_paper,
    parse_feed,
)
from paperwire.sources.arxiv_calendar import nothing_new_reason
from paperwire.sources.errors import RecordError
from paperwire.sources.hf_api import HfClient
from paperwire.sources.http import (
    USER_AGENT,
    Fetcher,
    HttpStatusError,
    MalformedResponse,
    SourceError,
    retry_after_seconds,
)
from paperwire.sources.oai_pmh import OaiClient, parse_response, set_for
from replay_server import ReplayServer, oai_envelope

OAI_DIR = FIXTURES / "arxiv-oai-pmh" / "records"


@pytest.fixture
def replay():
    needs_shared(FIXTURES / "arxiv-api")
    needs_shared(HF_DIR)
    with ReplayServer(FIXTURES, HF_DIR) as server:
        yield server


def fast_fetcher(**kw) -> Fetcher:
    return Fetcher(backoff=0.01, **kw)


@pytest.fixture
def arxiv(replay):
    with ArxivClient(replay.url + "/api/query", fast_fetcher(name="the arXiv API")) as client:
        yield client


@pytest.fixture
def oai(replay):
    with OaiClient(replay.url + "/oai2", fast_fetcher(name="arXiv OAI-PMH")) as client:
        yield client


# -- the shared HTTP client -------------------------------------------------------------------
def test_user_agent_names_paperwire(replay, arxiv):
    arxiv.paper("1605.08386")
    assert replay.user_agents[-1] == USER_AGENT
    assert USER_AGENT.startswith("paperwire/")


def test_429_then_success(replay, arxiv):
    replay.inject("/api/query", 429, {"Retry-After": "0"}, "slow down")
    replay.inject("/api/query", 429, {}, "slow down")
    paper = arxiv.paper("1605.08386")
    assert paper.title == "Heat-bath random walks with Markov bases"
    assert len(replay.requests_to("/api/query")) == 3


def test_503_with_retry_after_is_honoured(replay, arxiv):
    replay.inject("/api/query", 503, {"Retry-After": "1"}, "maintenance")
    started = time.monotonic()
    assert arxiv.paper("1605.08386").arxiv_id == "1605.08386"
    assert time.monotonic() - started >= 0.95
    assert len(replay.requests_to("/api/query")) == 2


def test_retries_run_out_with_a_clear_error(replay):
    for _ in range(3):
        replay.inject("/api/query", 502, {}, "bad gateway")
    fetcher = fast_fetcher(name="the arXiv API", retries=2)
    with pytest.raises(HttpStatusError, match="502.*after 3 attempts.*try again later") as info:
        fetcher.get(replay.url + "/api/query", {"id_list": "1605.08386"})
    assert info.value.status_code == 502


def test_retry_after_longer_than_we_wait_is_an_error(replay):
    replay.inject("/api/query", 429, {"Retry-After": "3600"}, "")
    with pytest.raises(HttpStatusError, match="wait 3600 s"):
        Fetcher(max_wait=60).get(replay.url + "/api/query")


def test_4xx_is_a_clear_error_without_retry(replay):
    fetcher = fast_fetcher(name="Hugging Face", setting_hint="PAPERWIRE_HF_URL")
    with pytest.raises(HttpStatusError, match="404 Not Found.*PAPERWIRE_HF_URL"):
        fetcher.get(replay.url + "/no/such/path")
    assert len(replay.requests_to("/no/such/path")) == 1


def test_unreachable_server_is_a_clear_error():
    from conftest import free_port

    fetcher = Fetcher(retries=1, backoff=0.01, name="the arXiv API")
    with pytest.raises(SourceError, match="cannot reach the arXiv API"):
        fetcher.get(f"http://127.0.0.1:{free_port()}/api/query")


def test_politeness_delay_spaces_requests(replay):
    with ArxivClient(replay.url + "/api/query", Fetcher(min_interval=0.3)) as client:
        started = time.monotonic()
        client.paper("1605.08386")
        client.paper("1707.08567")
        client.paper("astro-ph/0601001")
    assert time.monotonic() - started >= 0.6


def test_retry_after_forms():
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(None) is None
    now = datetime(2026, 8, 21, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Fri, 21 Aug 2026 12:00:30 GMT", now) == 30


# -- arXiv API ----------------------------------------------------------------------------------
def test_paging_series(replay, arxiv):
    feeds = list(arxiv.search("testing", page_size=10, max_results=60))
    assert [f.start for f in feeds] == [0, 10, 20, 30, 40, 50]
    records = [e for f in feeds for e in f.entries]
    assert len(records) == 60 and all(isinstance(r, PaperRecord) for r in records)
    assert feeds[0].total == 214881
    starts = [q["start"] for q in replay.requests_to("/api/query")]
    assert starts == ["0", "10", "20", "30", "40", "50"]
    first = records[0]
    assert first.arxiv_id == "2202.12139" and first.version == 1
    assert first.categories[:2] == ("cs.SE", "cs.LG")
    assert first.authors == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker")
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    assert first.journal_ref and first.journal_ref.startswith("Artificial Intelligence")
    assert first.published_at == datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC)


def test_paging_resumes_from_an_offset(arxiv):
    feeds = list(arxiv.search("testing", start=5, page_size=15, max_results=15))
    assert [f.start for f in feeds] == [5] and len(feeds[0].entries) == 15


def test_400_error_entry(arxiv):
    with pytest.raises(ArxivApiError, match="incorrect id format for abc"):
        arxiv.query(id_list=["abc"])


def test_error_entry_with_200_is_an_error_too():
    body = (FIXTURES / "arxiv-api").glob("id_abc_*.json")
    import json

    text = json.loads(next(body).read_text())["body"]
    with pytest.raises(ArxivApiError, match="incorrect id format"):
        parse_feed(text)


def test_unknown_id_is_an_empty_feed(replay, arxiv):
    feed = arxiv.query(id_list=["0808.05394"])
    assert feed.total == 0 and feed.entries == []
    # A well-formed id arXiv does not know: the same recorded empty feed.
    empty = replay.arxiv[next(k for k in replay.arxiv if ("id_list", "0000.0000") in k)]
    replay.arxiv_fallback = lambda params: empty if params["id_list"] == "2608.99999" else None
    with pytest.raises(PaperNotFound, match="no paper '2608.99999'"):
        arxiv.paper("2608.99999")
    assert list(arxiv.by_ids(["2608.99999"])) == []


def test_malformed_ids_are_not_sent(replay, arxiv):
    items = list(arxiv.by_ids(["abc", "0000.0000"]))
    assert all(isinstance(i, RecordError) for i in items) and len(items) == 2
    assert replay.requests_to("/api/query") == []
    with pytest.raises(PaperNotFound):
        arxiv.paper("not-an-id")


def test_old_and_new_style_ids_with_versions(arxiv):
    old = arxiv.paper("astro-ph/0601001")
    assert old.arxiv_id == "astro-ph/0601001" and old.version == 1
    assert old.primary_category == "astro-ph"
    pinned = arxiv.paper("quant-ph/0201082v1")
    assert pinned.arxiv_id == "quant-ph/0201082" and pinned.version == 1
    new = arxiv.paper("2104.12255v1")
    assert new.arxiv_id == "2104.12255" and new.version == 1
    many = list(arxiv.by_ids(["1707.08567"]))
    assert [r.arxiv_id for r in many] == ["1707.08567"]


def test_truncated_atom_is_a_clear_error(replay, arxiv):
    replay.truncate_next("/api/query", 900)
    with pytest.raises(MalformedResponse, match="malformed or truncated XML"):
        arxiv.paper("1605.08386")


def test_fetch_paper_uses_the_settings(replay, tmp_path):
    settings = Settings(data_dir=tmp_path, arxiv_api_url=replay.url + "/api/query", arxiv_delay=0)
    paper = fetch_paper("https://arxiv.org/abs/1605.08386", settings)
    assert paper.arxiv_id == "1605.08386"
    assert paper.authors == ("Caprice Stanley", "Tobias Windisch")
    assert paper.comments == "20 pages, 3 figures"


# -- OAI-PMH ------------------------------------------------------------------------------------
def _fixture_ids() -> list[str]:
    ids = []
    for path in sorted(OAI_DIR.glob("*.xml")):
        for rec in re.findall(r"<record>.*?</record>", path.read_text(), re.S):
            ids.append(re.search(r"<id>\s*(\S+?)\s*</id>", rec).group(1))
    return ids


def test_oai_harvest_yields_every_record(replay, oai):
    pages = list(oai.list_pages())
    records = [r for p in pages for r in p.records]
    assert [r.arxiv_id for r in records] == _fixture_ids()
    assert all(isinstance(r, PaperRecord) for r in records)
    assert len(pages) == (len(records) + 1) // 2  # two records a page in the replay server
    assert pages[0].complete_size == len(records)
    for r in records:
        assert r.authors and r.categories and r.published_at and r.abstract
        assert r.origin == "arxiv"


def test_oai_resumption_tokens_and_fields(replay, oai):
    records = list(oai.list_records(set_spec="physics:hep-th", from_=date(2017, 12, 14)))
    verbs = replay.requests_to("/oai2")
    assert verbs[0] == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "physics:hep-th",
        "from": "2017-12-14",
    }
    assert verbs[1].keys() == {"verb", "resumptionToken"}
    assert [r.arxiv_id for r in records] == ["1412.8323", "1507.07790", "1607.01710"]
    first, second = records[0], records[1]
    assert first.authors == ("Philipp A Hoehn",)
    assert first.categories[0] == "quant-ph" and "hep-th" in first.categories
    assert first.published_at == datetime(2014, 12, 29, tzinfo=UTC)
    assert first.updated_at == datetime(2017, 12, 13, tzinfo=UTC)
    assert first.title.startswith("Toolbox for reconstructing quantum theory from rules")
    assert second.journal_ref == "J. Phys. A: Math. Theor. 51 (2018) 035201"
    assert second.doi == "10.1088/1751-8121/aa9c53"


def test_oai_until_filter_and_no_records(oai):
    assert list(oai.list_records(set_spec="physics:hep-th", until=date(2000, 1, 1))) == []


def test_oai_get_record(oai):
    rec = oai.get_record("1401.2122")
    assert rec.authors == ("A. Sergyeyev",)
    assert rec.categories == ("math.AP", "hep-th", "math-ph", "math.DG", "math.MP", "nlin.SI")
    with pytest.raises(PaperNotFound):
        oai.get_record("2608.99999")


def test_oai_metadata_in_the_oai_namespace_and_suffixes():
    page = parse_response((OAI_DIR / "sample_arxiv_record0.xml").read_text())
    (rec,) = page.records
    assert rec.arxiv_id == "1601.03238" and rec.authors[0] == "Planck Collaboration"
    page = parse_response((OAI_DIR / "sample_arxiv_record4.xml").read_text())
    assert "R. W. IV" in page.records[0].authors


def test_oai_truncated_is_a_clear_error(replay, oai):
    replay.truncate_next("/oai2", 700)
    with pytest.raises(MalformedResponse, match="truncated"):
        list(oai.list_records(set_spec="physics:hep-th"))


def test_oai_arxivraw_versions():
    raw = oai_envelope(
        "<GetRecord><record><header><identifier>oai:arXiv.org:0704.0001</identifier>"
        "<datestamp>2008-11-13</datestamp></header><metadata>"
        '<arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/"><id>0704.0001</id>'
        "<title>Calculation of prompt diphoton production</title>"
        "<authors>C. Bal\\'azs, E. L. Berger, P. M. Nadolsky</authors>"
        "<categories>hep-ph</categories><abstract>A fully differential calculation.</abstract>"
        '<version version="v1"><date>Mon, 2 Apr 2007 19:18:42 GMT</date></version>'
        '<version version="v2"><date>Tue, 24 Jul 2007 20:10:27 GMT</date></version>'
        "</arXivRaw></metadata></record></GetRecord>",
        "GetRecord",
    )
    (rec,) = parse_response(raw).records
    assert rec.version == 2 and len(rec.authors) == 3
    assert rec.published_at == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert rec.updated_at == datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)


def test_set_for_categories():
    assert set_for("cs") == ("cs", None)
    assert set_for("cs.CL") == ("cs", "cs.CL")
    assert set_for("hep-th") == ("physics:hep-th", None)
    assert set_for("math.AP") == ("math", "math.AP")
    assert set_for("physics:hep-ex") == ("physics:hep-ex", None)


# -- HF -----------------------------------------------------------------------------------------
def test_hf_day_paginates_and_matches_the_file(replay):
    with HfClient(replay.url, fast_fetcher(), page_size=10) as hf:
        got = hf.day(date(2026, 8, 3))
    import json

    items = json.loads((HF_DIR / "2026-08-03.json").read_text())
    want = list(hf_daily.parse_items(items, date(2026, 8, 3)))
    assert got == want
    pages = [q["p"] for q in replay.requests_to("/api/daily_papers")]
    assert pages == [str(n) for n in range(len(items) // 10 + 1)]


def test_hf_empty_day_week_and_month(replay):
    with HfClient(replay.url, fast_fetcher()) as hf:
        assert hf.day(date(2026, 8, 1)) == []
        week = hf.week("2026-W32")
        month = hf.month("2026-08")
    assert {r.listing.day for r in week} <= {date(2026, 8, d) for d in range(3, 10)}
    assert len(month) > len(week) > 0


def test_hf_truncated_json_is_a_clear_error(replay):
    replay.truncate_next("/api/daily_papers", 500)
    with HfClient(replay.url, fast_fetcher()) as hf, pytest.raises(MalformedResponse):
        hf.day(date(2026, 8, 3))


# -- the calendar -------------------------------------------------------------------------------
def test_calendar_reasons():
    weekend = nothing_new_reason(date(2026, 8, 22), date(2026, 8, 23))
    assert "weekends" in weekend and "Sunday to Thursday" in weekend
    assert "Christmas" in nothing_new_reason(date(2026, 12, 25), date(2026, 12, 25))
    assert "holiday" in nothing_new_reason(date(2026, 8, 19), date(2026, 8, 19), "cs.CL")
