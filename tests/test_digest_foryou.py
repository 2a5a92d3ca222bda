""" "For you" in the digest, end to end on SQLite and PostgreSQL: a subscriber whose address
belongs to an account with upvotes and saved papers gets the section (real search index and
vectors, real SMTP via aiosmtpd, the manage page over HTTP); no paper repeats; the checkbox
turns it off; an unusable index skips it silently; the migrations end in one head."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from conftest import LiveServer
from digest_data import (
    CORPUS,
    D21,
    D22,
    csrf,
    hidden_token,
    html_part,
    link,
    load,
    paper_ids,
    record,
    send,
    text_part,
)
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.digest.repository import DigestRepository
from paperwire.recommend.repository import RecommendRepository
from paperwire.store.db import alembic_config, migrate
from paperwire.web.app import create_app

AUG22 = datetime(2026, 8, 22, 8, 0)
AUG23 = datetime(2026, 8, 23, 8, 0)
EXTRA = [
    record("2608.00015", "Skill Discovery for Robot Manipulation", D21, 0),
    record("2608.00016", "Imitation Learning of Robot Skills from Video", D21, 0),
    record("2608.00022", "Robot Skill Transfer Across Embodiments", D22, 2),
    record("2608.00023", "Learning Robot Skills from Video Diffusion", D22, 1),
    record("2608.00024", "Protein Folding with Language Models", D22, 0),
]


@pytest.fixture
def env(settings, smtp):
    controller, inbox = smtp
    s = settings.model_copy(
        update=dict(
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            digest_topic_search="keyword",
            search_index_on_import=True,
            embed_on_import=True,
            digest_trending=2,
            digest_backoff=0.1,
            argon2_profile="CHEAPEST",
            public_url="http://127.0.0.1:1",
        )
    )
    store = open_store(s)
    load(store, CORPUS + EXTRA)
    alice = Community.of(store).accounts.create_user("alice", "x", email="Alice@Example.org")
    Community.of(store).votes.vote(alice.id, "2608.00001", True)  # Skill Learning for Robots
    assert RecommendRepository(store.engine).set_saved(
        alice.id, "2608.00002", True
    )  # Video Diffusion Models
    yield s, store, inbox
    store.close()


def _sections(msg) -> list[str]:
    lines = text_part(msg).splitlines()
    return [lines[i - 1] for i, ln in enumerate(lines) if ln and set(ln) == {"="}]


def paper_ids_in(text: str) -> list[str]:
    return re.findall(r"/papers/(\d{4}\.\d{5})", text)


def _foryou_part(msg) -> str:
    body = text_part(msg)
    return body.split("For you\n=======", 1)[1].split("\n--\n", 1)[0]


def test_digest_has_for_you_for_account_holders(env):
    settings, store, inbox = env
    DigestRepository(store.engine).subscribe("ALICE@example.org", "daily", ["tokenizers"], [])
    DigestRepository(store.engine).subscribe("nobody@example.org", "daily", ["tokenizers"], [])
    report = send(store, settings, now=AUG22)
    assert report.sent == 2, report
    mails = {m["To"]: m for m in inbox.wait(2)}
    alice, nobody = mails["alice@example.org"], mails["nobody@example.org"]

    assert "For you" not in _sections(nobody)  # no account with that address
    assert _sections(alice) == ["Trending", "For you"]  # after trending (and topics)
    ids = paper_ids(alice)
    assert len(ids) == len(set(ids))  # no repeats across the sections
    assert ids[:2] == ["2608.00011", "2608.00012"]  # trending
    mine = paper_ids_in(_foryou_part(alice))
    assert set(mine) == {"2608.00013", "2608.00014", "2608.00015", "2608.00016"}
    part = _foryou_part(alice)
    assert part.count("Why: for you: ") == 4
    assert "you upvoted" in part and "you saved" in part
    assert "(like 'Skill Learning for Robots')" in part and "(like 'Video Diffusion" in part
    html = html_part(alice)
    assert ">For you</h2>" in html and "for you: close to" in html

    # The next day: 'For you' is on by default; a dry run shows what it would add.
    (preview,) = [
        n
        for e, n in send(store, settings, now=AUG23, dry_run=True).previews
        if e == "alice@example.org"
    ]
    assert preview == 4  # 2 trending + 2 for you (00023, 00024); nothing sent before repeats

    # The manage page's checkbox turns it off.
    app = create_app(settings, store)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as web:
        page = web.get(link(alice, "/digest/manage").replace("http://127.0.0.1:1", ""))
        assert page.status_code == 200
        assert 'name="foryou" value="1" checked' in page.text
        data = {
            "token": hidden_token(page.text),
            "frequency": "daily",
            "topics": "tokenizers",
            "organizations": "",
            **csrf(page.text),
        }
        r = web.post("/digest/manage", data=data)
        assert r.status_code == 200 and 'name="foryou" value="1">' in r.text
    assert not DigestRepository(store.engine).subscription_by_email("alice@example.org").foryou
    assert send(store, settings, now=AUG23).sent == 2
    second = [m for m in inbox.wait(4)[2:] if m["To"] == "alice@example.org"][0]
    assert _sections(second) == ["Trending"]
    assert paper_ids(second) == ["2608.00021", "2608.00022"]
    sent = DigestRepository(store.engine).sent_papers("alice@example.org")
    assert len(sent) == len(set(sent)) == 8


def test_unusable_index_skips_the_section(env, tmp_path):
    settings, store, inbox = env
    DigestRepository(store.engine).subscribe("alice@example.org", "daily", [], [])
    broken = tmp_path / "not-an-index"
    broken.write_text("a file, not a directory")
    report = send(store, settings.model_copy(update={"index_dir": broken}), now=AUG22)
    assert report.sent == 1 and not report.errors
    (mail,) = inbox.wait(1)
    assert _sections(mail) == ["Trending"]


def test_migrations_end_in_one_head(db_url):
    engine = create_engine(db_url)
    try:
        heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
        assert len(heads) == 1  # one head, whatever the latest revision
        migrate(engine)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == heads[0]
        cols = {c["name"] for c in inspect(engine).get_columns("digest_subscriptions")}
        assert "foryou" in cols
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO digest_subscriptions (email, token, frequency, topics, "
                    "organizations, send_empty, status, created_at, updated_at) VALUES "
                    "('x@example.org', 't', 'daily', '[]', '[]', false, 'confirmed', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            assert conn.scalar(text("SELECT foryou FROM digest_subscriptions")) in (True, 1)
        migrate(engine)  # idempotent
    finally:
        engine.dispose()
