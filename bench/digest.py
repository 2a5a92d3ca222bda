"""Compose and deliver daily digests to N confirmed subscribers (3 topics each) through a
real local SMTP server (aiosmtpd in its own process, discarding what it accepts).

Prints one figure per line.  The corpus is a directory of HF daily-papers JSON files; the
last 14 days of it are imported and the digest of its last day is sent.

    python bench/digest.py ../shared/data/hf-daily-papers --subscribers 10000
"""

from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from paperwire.context import open_store
from paperwire.digest.repository import DigestRepository
from paperwire.digest.send import send_digests
from paperwire.settings import Settings
from paperwire.sources.files import read_file

TOPICS = [
    "diffusion for video",
    "skill learning",
    "reinforcement learning",
    "large language models",
    "vision language models",
    "image generation",
    "speech recognition",
    "code generation",
    "mixture of experts",
    "retrieval augmented generation",
    "reasoning",
    "robot manipulation",
    "text to speech",
    "3d reconstruction",
    "gaussian splatting",
    "agents",
    "benchmark",
    "quantization",
    "long context",
    "multimodal",
    "instruction tuning",
    "alignment",
    "world models",
    "video understanding",
    "tokenizer",
    "state space models",
    "distillation",
    "preference optimization",
    "medical imaging",
    "graph neural networks",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the SMTP server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path, help="directory of HF daily-papers JSON files")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--db", help="SQLAlchemy URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*.json"))[-14:]
    if not files:
        print(f"no HF daily JSON files in {args.corpus}", file=sys.stderr)
        return 2
    last = date.fromisoformat(files[-1].stem)
    port = free_port()
    smtpd = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
    )
    try:
        wait_for(port)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp),
                database_url=args.db or f"sqlite:///{Path(tmp) / 'bench.db'}",
                secret_key="bench",
                smtp_host="127.0.0.1",
                smtp_port=port,
                digest_topic_search="keyword",
                search_index_on_import=False,
                public_url="https://papers.example.org",
            )
            store = open_store(settings)
            for f in files:
                store.import_records(read_file(f))
            rng = random.Random(7)
            DigestRepository(store.engine).import_subscriptions(
                {"email": f"reader{i}@example.org", "topics": rng.sample(TOPICS, 3)}
                for i in range(args.subscribers)
            )
            start = time.perf_counter()
            report = send_digests(
                store,
                settings,
                now=datetime.combine(last + timedelta(days=1), datetime.min.time()).replace(hour=8),
            )
            elapsed = time.perf_counter() - start
            store.close()
    finally:
        smtpd.terminate()
        smtpd.wait(10)
    print(f"subscribers: {args.subscribers}")
    print(f"period: daily:{last.isoformat()}")
    print(f"sent: {report.sent}")
    print(f"empty: {report.empty}")
    print(f"failed: {report.failed + report.deferred}")
    print(f"seconds: {elapsed:.1f}")
    print(f"digests_per_second: {(report.sent + report.empty) / elapsed:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
