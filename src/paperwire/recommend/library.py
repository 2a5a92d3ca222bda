"""Reading a reader's library: BibTeX (bibtexparser), RIS (rispy) or a Zotero CSV export (csv),
resolved against the store by arXiv id, then DOI, then normalized title."""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field

from paperwire.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.recommend.repository import RecommendRepository

MAX_BYTES = 5 * 1024 * 1024
FORMATS = ("bibtex", "ris", "csv")
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv[:./\s]*(?:abs/|pdf/)?|arxiv\.org/(?:abs|pdf)/)"
    r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[a-z\-]+)?/\d{7}(?:v\d+)?)",
    re.IGNORECASE | re.ASCII,
)
_DOI = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)


class LibraryError(ValueError):
    """The file could not be read as a library; the message says why, for the reader."""


@dataclass(frozen=True)
class Reference:
    label: str  # what the report shows: the citation key, else the title
    title: str = ""
    arxiv_id: str | None = None
    doi: str | None = None


@dataclass
class ImportReport:
    entries: int = 0
    matched: list[tuple[Reference, str, str]] = field(default_factory=list)  # ref, id, how
    unmatched: list[Reference] = field(default_factory=list)
    added: int = 0
    skipped_blocks: int = 0  # BibTeX blocks that did not parse


def arxiv_id_in(*values: str | None) -> str | None:
    for v in values:
        if not v:
            continue
        v = v.strip()
        try:
            return parse_arxiv_id(v).id
        except InvalidArxivId:
            pass
        m = _ARXIV_IN_TEXT.search(v)
        if m:
            try:
                return parse_arxiv_id(m.group(1)).id
            except InvalidArxivId:
                pass
    return None


def doi_in(*values: str | None) -> str | None:
    for v in values:
        m = _DOI.search(v or "")
        if m:
            return m.group(0).rstrip(".,;}").lower()
    return None


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").replace("{", "").replace("}", "")).strip()


def _ref(label: str, title: str, arxiv: str | None, doi: str | None) -> Reference:
    title = _clean(title)
    return Reference(
        label=_clean(label) or title or "(untitled)", title=title, arxiv_id=arxiv, doi=doi
    )


def detect(name: str, text: str) -> str:
    lower = name.lower()
    if lower.endswith((".bib", ".bibtex")):
        return "bibtex"
    if lower.endswith((".ris", ".txt")) and re.search(r"^TY  - ", text, re.M):
        return "ris"
    if lower.endswith(".ris"):
        return "ris"
    if lower.endswith(".csv"):
        return "csv"
    head = text.lstrip()[:2000]
    if head.startswith("@") or re.search(r"^\s*@\w+\s*\{", head, re.M):
        return "bibtex"
    if re.search(r"^TY  - ", head, re.M):
        return "ris"
    if "," in head.splitlines()[0] if head else False:
        return "csv"
    raise LibraryError(
        "could not tell the format: upload a BibTeX (.bib), RIS (.ris) or Zotero CSV (.csv) file"
    )


def parse_bibtex(text: str) -> tuple[list[Reference], int]:
    import bibtexparser

    logging.getLogger("bibtexparser").setLevel(logging.ERROR)
    lib = bibtexparser.parse_string(text)
    refs = []
    for e in lib.entries:
        f = {k.lower(): str(v.value) for k, v in e.fields_dict.items()}
        eprint = f.get("eprint") if "arxiv" in f.get("archiveprefix", "arxiv").lower() else None
        arxiv = arxiv_id_in(
            eprint,
            f.get("arxiv"),
            f.get("arxivid"),
            f.get("url"),
            f.get("journal"),
            f.get("note"),
            f.get("doi"),
        )
        refs.append(_ref(e.key, f.get("title", ""), arxiv, doi_in(f.get("doi"))))
    return refs, len(lib.failed_blocks)


def parse_ris(text: str) -> list[Reference]:
    import rispy

    try:
        entries = rispy.loads(text)
    except Exception as exc:  # rispy raises plain IOError/ValueError on a broken file
        raise LibraryError(f"not a readable RIS file: {exc}") from None
    refs = []
    for e in entries:
        title = e.get("title") or e.get("primary_title") or ""
        urls = e.get("urls") or []
        arxiv = arxiv_id_in(*urls, e.get("doi"), e.get("journal_name"), e.get("notes_abstract"))
        label = e.get("id") or title
        refs.append(_ref(str(label), str(title), arxiv, doi_in(e.get("doi"))))
    return refs


def parse_zotero_csv(text: str) -> list[Reference]:
    reader = csv.DictReader(io.StringIO(text))
    cols = {c.strip().lower(): c for c in reader.fieldnames or []}
    if "title" not in cols:
        raise LibraryError("this CSV has no 'Title' column (export from Zotero as CSV)")

    def get(row: dict, name: str) -> str:
        col = cols.get(name)
        return (row.get(col) or "") if col else ""

    refs = []
    for row in reader:
        title = get(row, "title")
        arxiv = arxiv_id_in(
            get(row, "url"),
            get(row, "extra"),
            get(row, "archive location"),
            get(row, "publication title"),
            get(row, "doi"),
        )
        label = get(row, "key") or title
        refs.append(_ref(label, title, arxiv, doi_in(get(row, "doi"))))
    return refs


def parse_library(name: str, data: bytes) -> tuple[list[Reference], int]:
    """(references, blocks that did not parse).  Raises :class:`LibraryError` with a reason."""
    if not data or not data.strip():
        raise LibraryError("the file is empty")
    if len(data) > MAX_BYTES:
        raise LibraryError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if "\x00" in text:
        raise LibraryError("this is a binary file, not a BibTeX, RIS or CSV library")
    kind = detect(name, text)
    skipped = 0
    if kind == "bibtex":
        refs, skipped = parse_bibtex(text)
    elif kind == "ris":
        refs = parse_ris(text)
    else:
        refs = parse_zotero_csv(text)
    if not refs:
        raise LibraryError(f"no entries found in this {kind.upper()} file")
    return refs, skipped


def resolve(store, refs: list[Reference]) -> tuple[list[tuple[Reference, int, str]], list]:
    """Match references to papers: arXiv id, then DOI, then normalized title."""
    papers = RecommendRepository(store.engine)
    by_arxiv = papers.paper_ids_by_arxiv(sorted({r.arxiv_id for r in refs if r.arxiv_id}))
    by_doi = papers.paper_ids_by_doi([r.doi for r in refs if r.doi])
    matched, unmatched = [], []
    for r in refs:
        if r.arxiv_id and r.arxiv_id in by_arxiv:
            matched.append((r, by_arxiv[r.arxiv_id], "arXiv id"))
        elif r.doi and r.doi in by_doi:
            matched.append((r, by_doi[r.doi], "DOI"))
        elif r.title and (pid := papers.paper_id_by_title(r.title)) is not None:
            matched.append((r, pid, "title"))
        else:
            unmatched.append(r)
    return matched, unmatched


def import_library(store, user_id: int, name: str, data: bytes) -> ImportReport:
    refs, skipped = parse_library(name, data)
    matched, unmatched = resolve(store, refs)
    ids = [pid for _, pid, _ in matched]
    # by id: zipping ids with cards shifted every id after one that was gone by now
    arxiv_of = RecommendRepository(store.engine).arxiv_ids_of(ids)
    report = ImportReport(entries=len(refs), unmatched=unmatched, skipped_blocks=skipped)
    report.matched = [(r, arxiv_of.get(pid, ""), how) for r, pid, how in matched]
    report.added = RecommendRepository(store.engine).add_to_library(user_id, ids)
    return report
