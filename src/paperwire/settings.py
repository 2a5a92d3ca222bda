"""One settings object, read from the environment (``PAPERWIRE_*``) and an optional config file.

The settings are built once at the edge (CLI, app factory) and passed down explicitly.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(user_data_dir("paperwire", appauthor=False))


class Settings(BaseSettings):
    """paperwire's settings. Every field can be set as ``PAPERWIRE_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERWIRE_",
        env_file=os.environ.get("PAPERWIRE_CONFIG", "paperwire.env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    secret_key: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    site_name: str = "paperwire"
    page_size: int = 50
    # The longest ``q`` that /api/papers/search takes: the Hub's limit (HF parity); the search
    # page and the CLI take longer text (a pasted paragraph keeps its 32 rarest words).
    api_max_query: int = Field(default=250, ge=1, le=100_000)
    # Anonymous GET answers kept in memory per process (web/cache.py): seconds an entry
    # lives (0: off), how often writes of other processes are looked for, most MB held.
    page_cache_ttl: float = 30.0
    page_cache_check: float = 1.0
    page_cache_mb: int = 256
    # Reads (GET and HEAD requests the page cache did not answer) a worker computes at once;
    # the others wait in line (web/read_gate.py): pages one at a time (threads taking turns
    # on the GIL cost a page more than half its throughput), searches two (mostly tantivy
    # and faiss, without the GIL).  Raise them where each page waits on a remote database;
    # 0 turns a line off.
    read_concurrency: int = Field(default=1, ge=0, le=64)
    # With pages one at a time, compute the day and paper pages (a few ms each) on the
    # worker's event loop instead of a thread (ui/reads.py: no GIL handover at every SQLite
    # call while the loop serves cached pages).  Unset: on for SQLite, off for PostgreSQL,
    # where a page waits on the network and the loop, serving nothing else, would wait too.
    read_on_loop: bool | None = None
    search_concurrency: int = Field(default=2, ge=0, le=64)
    # One log line per request from the server.  Off by default: the reverse proxy logs every
    # request already, and the line cost a cached page about 10% of its throughput.
    access_log: bool = False
    # FastAPI's native OpenTelemetry hooks (traces, metrics, logs through the global
    # providers).  Off by default: asking the providers on every request cost a cached page
    # about a tenth of its CPU; turn on where an OpenTelemetry SDK is configured.
    opentelemetry: bool = False

    hf_url: str = "https://huggingface.co"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    oai_url: str = "https://export.arxiv.org/oai2"

    # Live sources and the daily sync (docs/sources.md).
    http_timeout: float = 30.0  # seconds per request
    http_retries: int = 4  # retries on 429/5xx and network errors
    http_backoff: float = 2.0  # first backoff in seconds, doubled per retry
    http_max_wait: float = 300.0  # longest Retry-After honoured, in seconds
    arxiv_delay: float = 3.0  # arXiv's politeness rule: one request per 3 s
    arxiv_categories: str = ""  # e.g. "cs.CL,cs.LG": the daily arXiv sync's categories
    oai_sets: str = ""  # categories or OAI sets the OAI backfill harvests, e.g. "cs,math.AP"
    hf_refresh_days: int = 3  # recent HF days fetched again to refresh upvotes
    sync_time: str = "06:30"  # daily sync time inside `paperwire serve`, UTC, HH:MM
    sync_enabled: bool = True  # run the daily sync inside `paperwire serve`
    sync_sources: str = "hf,arxiv"  # sources the scheduled sync runs
    sync_lock_ttl: float = 900.0  # seconds a sync lock lasts without a heartbeat
    # Seconds after `paperwire serve` starts before its schedules (sync, digests) first look
    # for a missed run.  Each daily run happens on one node only (docs/deploy.md).
    schedule_delay: float = 30.0

    # Email digests (docs/digest.md).  SMTP security: none, starttls or ssl.
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"
    smtp_from: str | None = None  # default: "<site_name> <digest@<public_url host>>"
    smtp_timeout: float = 30.0
    digest_time: str = "07:00"  # UTC HH:MM; daily digests then, weekly ones on Mondays
    digest_enabled: bool = True  # send due digests inside `paperwire serve`
    digest_retries: int = 5  # SMTP retries per message on temporary errors
    digest_backoff: float = 1.0  # first retry wait in seconds, doubled per retry
    digest_rate: float = 0.0  # most messages per second (0: as fast as the server takes)
    digest_trending: int = 10  # trending papers per digest
    digest_topic_papers: int = 5  # papers per topic or organization per digest
    digest_topic_search: str = "auto"  # auto (semantic when available) or keyword
    digest_confirm_hours: int = 72  # how long a confirmation link works

    # Community: accounts, votes, submissions, comments (docs/community.md).
    submission_window_days: int = 14  # days after arXiv publication a paper may be submitted
    session_days: int = 30  # how long a sign-in lasts
    argon2_profile: str = "RFC_9106_LOW_MEMORY"  # argon2.profiles name; CHEAPEST for tests
    login_rate_limit: str = "10/minute"  # per IP, `limits` notation
    # per account name, whatever the address: rotating addresses does not buy more guesses
    login_account_rate_limit: str = "30/hour"
    # Addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are
    # believed (comma-separated IPs or networks, "*" for any).  Empty: none, so the client
    # address is the TCP peer and nothing on this host can pick its own address by sending
    # a header.  Behind nginx on the same host: 127.0.0.1 (docs/deploy.md).
    trusted_proxies: str = ""
    signup_rate_limit: str = "5/hour"  # per IP
    rate_limit_storage: str = "memory://"  # per process; redis://host for several nodes

    import_batch_size: int = 2000
    # `paperwire import` of at least this many MB of files computes static vectors in worker
    # processes while it writes (search/pipeline.py); smaller ones embed at the end, since
    # starting the workers costs a few seconds
    import_pipeline_mb: float = 8.0

    index_dir: Path | None = None
    search_index_on_import: bool = True
    embed_on_import: bool = True
    # Contextual vectors (docs/search.md) from the server's background job and `paperwire
    # embed`; false: static vectors only (contextual ones already made are still used).
    embed_contextual: bool = True
    # Every serving process follows the database into its search index: papers changed by any
    # node (or a CLI on another host) are indexed within about this many seconds plus one.
    index_follow_interval: float = 2.0

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'paperwire.db'}"

    @property
    def resolved_read_on_loop(self) -> bool:
        """Whether pages are computed on the event loop (``read_on_loop``, one at a time)."""
        if self.read_concurrency != 1:
            return False
        if self.read_on_loop is not None:
            return self.read_on_loop
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_index_dir(self) -> Path:
        """Where the derived search indexes live (lexical and dense)."""
        return self.index_dir or self.data_dir / "index"

    def resolved_secret_key(self) -> str:
        """The secret from the environment, or one generated once into ``data_dir/secret_key``.

        There is never a default string: a fresh install writes 32 random bytes with mode 0600.
        """
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key
