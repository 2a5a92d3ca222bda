"""A loopback HTTP server that replays recorded arXiv and Hugging Face responses.

- ``/api/query``: the arXiv API fixtures in ``fixtures/arxiv-api/`` (``{url, status_code,
  body}``), matched on the query parameters; ``arxiv_fallback(params)`` may answer others.
- ``/oai2``: the OAI-PMH fixtures in ``fixtures/arxiv-oai-pmh/records/``.  ``ListRecords``
  serves the records of ``arxiv-<set>.xml`` (every file's records without ``set``), split into
  pages of ``oai_page_size`` with resumption tokens; ``GetRecord`` finds the record by id.
- ``/api/daily_papers``: the HF files ``data/hf-daily-papers/<date>.json`` (also ``week`` and
  ``month``), paged with ``p`` and ``limit``; a day without a file is ``[]``.

Knobs: ``inject(path, status, headers, body)`` queues canned answers for the next requests to
a path; ``truncate_next(path, nbytes)`` cuts the next real answer short; ``delay`` (a function
of path and params giving seconds) slows answers down.  ``log`` records every request.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

OAI_NS = (
    'xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
_RECORD = re.compile(r"<record>.*?</record>", re.S)
_IDENT = re.compile(r"<identifier>\s*oai:arXiv\.org:(.+?)\s*</identifier>")
_STAMP = re.compile(r"<datestamp>\s*(\S+?)\s*</datestamp>")


def _params(query: str) -> dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=True))


def oai_envelope(inner: str, verb: str = "ListRecords") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH {OAI_NS}>\n'
        f"<responseDate>2026-08-21T00:00:00Z</responseDate>\n"
        f'<request verb="{verb}">http://export.arxiv.org/oai2</request>\n{inner}\n</OAI-PMH>\n'
    )


def oai_error(code: str, text: str) -> str:
    return oai_envelope(f'<error code="{code}">{text}</error>')


class ReplayServer:
    def __init__(self, fixtures: Path, hf_dir: Path, *, oai_page_size: int = 2) -> None:
        self.fixtures = fixtures
        self.hf_dir = hf_dir
        self.oai_page_size = oai_page_size
        self.arxiv: dict[frozenset, tuple[int, str]] = {}
        for path in sorted((fixtures / "arxiv-api").glob("*.json")):
            rec = json.loads(path.read_text())
            key = frozenset(_params(urlsplit(rec["url"]).query).items())
            self.arxiv[key] = (rec["status_code"], rec["body"])
        self.oai_files: dict[str, list[str]] = {}
        for path in sorted((fixtures / "arxiv-oai-pmh" / "records").glob("*.xml")):
            self.oai_files[path.name] = _RECORD.findall(path.read_text())
        self.arxiv_fallback: Callable[[dict[str, str]], tuple[int, str] | None] | None = None
        self.delay: Callable[[str, dict[str, str]], float] | None = None
        self.log: list[tuple[str, dict[str, str]]] = []
        self.user_agents: list[str] = []
        self._injected: dict[str, deque] = defaultdict(deque)
        self._truncate: dict[str, deque] = defaultdict(deque)
        self._tokens: dict[str, tuple[list[str], int]] = {}
        self._release = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- knobs ---------------------------------------------------------------------------
    def inject(self, path: str, status: int, headers: dict | None = None, body: str = "") -> None:
        with self._lock:
            self._injected[path].append((status, headers or {}, body))

    def truncate_next(self, path: str, nbytes: int) -> None:
        with self._lock:
            self._truncate[path].append(nbytes)

    def release_delays(self) -> None:
        """Let every request that is waiting in ``delay`` go on, and stop delaying."""
        self.delay = None
        self._release.set()

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [q for p, q in self.log if p == path]

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release_delays()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    # -- answering -----------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path, params = parts.path, _params(parts.query)
        with self._lock:
            self.log.append((path, params))
            self.user_agents.append(h.headers.get("User-Agent", ""))
            injected = self._injected[path].popleft() if self._injected[path] else None
            cut = self._truncate[path].popleft() if self._truncate[path] else None
        delay = self.delay(path, params) if self.delay else 0
        if delay:
            self._release.wait(delay)
        if injected:
            status, headers, body = injected
            ctype = "text/plain"
        elif path == "/api/query":
            status, body, ctype = *self._arxiv(params), "application/atom+xml"
            headers = {}
        elif path == "/oai2":
            status, body, ctype = *self._oai(params), "text/xml"
            headers = {}
        elif path == "/api/daily_papers":
            status, body, ctype = 200, self._hf(params), "application/json"
            headers = {}
        else:
            status, headers, body, ctype = 404, {}, f"no route {path}", "text/plain"
        data = body.encode("utf-8")
        if cut is not None:
            data = data[:cut]
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _arxiv(self, params: dict[str, str]) -> tuple[int, str]:
        found = self.arxiv.get(frozenset(params.items()))
        if found:
            return found
        if self.arxiv_fallback:
            answer = self.arxiv_fallback(params)
            if answer:
                return answer
        return 404, f"no recorded arXiv response for {params}"

    def _hf(self, params: dict[str, str]) -> str:
        days: list[date] = []
        if "date" in params:
            days = [date.fromisoformat(params["date"])]
        elif "week" in params:
            year, week = params["week"].split("-W")
            monday = date.fromisocalendar(int(year), int(week), 1)
            days = [monday + timedelta(n) for n in range(7)]
        elif "month" in params:
            first = date.fromisoformat(params["month"] + "-01")
            d = first
            while d.month == first.month:
                days.append(d)
                d += timedelta(1)
        items: list = []
        for d in days:
            path = self.hf_dir / f"{d.isoformat()}.json"
            if path.exists():
                items.extend(json.loads(path.read_text()))
        if "limit" in params:
            limit, page = int(params["limit"]), int(params.get("p", "0"))
            items = items[page * limit : (page + 1) * limit]
        return json.dumps(items)

    def oai_records(self, set_spec: str | None = None) -> list[str]:
        if set_spec:
            return list(self.oai_files.get(f"arxiv-{set_spec.replace(':', '-')}.xml", []))
        return [r for records in self.oai_files.values() for r in records]

    def _oai(self, params: dict[str, str]) -> tuple[int, str]:
        verb = params.get("verb")
        if verb == "GetRecord":
            ident = params.get("identifier", "").removeprefix("oai:arXiv.org:")
            for rec in self.oai_records():
                m = _IDENT.search(rec)
                if m and m.group(1) == ident:
                    return 200, oai_envelope(f"<GetRecord>{rec}</GetRecord>", "GetRecord")
            return 200, oai_error("idDoesNotExist", f"No matching identifier {ident}")
        if verb != "ListRecords":
            return 200, oai_error("badVerb", f"Illegal verb {verb}")
        if "resumptionToken" in params:
            with self._lock:
                found = self._tokens.get(params["resumptionToken"])
            if not found:
                return 200, oai_error("badResumptionToken", "expired or unknown token")
            records, offset = found
        else:
            if params.get("metadataPrefix") != "arXiv":
                return 200, oai_error("cannotDisseminateFormat", "use metadataPrefix=arXiv")
            records = self.oai_records(params.get("set"))

            def stamp(rec: str) -> str:
                m = _STAMP.search(rec)
                return m.group(1) if m else ""

            if params.get("from"):
                records = [r for r in records if stamp(r) >= params["from"]]
            if params.get("until"):
                records = [r for r in records if stamp(r) <= params["until"]]
            offset = 0
            if not records:
                return 200, oai_error("noRecordsMatch", "no records match")
        page = records[offset : offset + self.oai_page_size]
        token = ""
        if offset + self.oai_page_size < len(records):
            name = f"tok{len(self._tokens)}-{offset + self.oai_page_size}"
            with self._lock:
                self._tokens[name] = (records, offset + self.oai_page_size)
            token = (
                f'<resumptionToken cursor="{offset}" completeListSize="{len(records)}">'
                f"{name}</resumptionToken>"
            )
        elif offset:
            token = f'<resumptionToken cursor="{offset}" completeListSize="{len(records)}"/>'
        return 200, oai_envelope("<ListRecords>" + "".join(page) + token + "</ListRecords>")
