"""100 people upvoting one paper at once are all counted, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import httpx

from community_support import PASSWORD, community_settings, hf_paper, token
from conftest import LiveServer
from paperwire.community.passwords import hash_password
from paperwire.community.repository import Community
from paperwire.context import open_store
from paperwire.web.app import create_app

VOTERS = 100


def test_100_concurrent_voters_are_all_counted(settings):
    cfg = community_settings(settings, login_rate_limit="1000/minute")
    store = open_store(cfg)
    store.import_records([hf_paper(1, 7, datetime.now(UTC).date())])
    hashed = hash_password(PASSWORD, cfg.argon2_profile)
    for i in range(VOTERS):
        Community.of(store).accounts.create_user(f"voter{i}", hashed)

    with LiveServer(create_app(cfg, store)) as server:
        clients = []
        for i in range(VOTERS):  # sign everyone in first
            c = httpx.Client(base_url=server.url, timeout=60)
            r = c.post(
                "/login",
                data={
                    "csrf_token": token(c.get("/login").text),
                    "username": f"voter{i}",
                    "password": PASSWORD,
                },
            )
            assert r.status_code == 303
            clients.append((c, token(c.get("/papers/2608.00001").text)))

        def storm(action: str, who: list[int]) -> list[int]:
            barrier = threading.Barrier(len(who))
            codes: list[int] = [0] * len(who)

            def vote(k: int) -> None:
                c, csrf = clients[who[k]]
                barrier.wait()
                r = c.post(
                    f"/api/papers/2608.00001/upvote?vote={action}",
                    headers={"X-CSRF-Token": csrf},
                )
                codes[k] = r.status_code

            threads = [threading.Thread(target=vote, args=(k,)) for k in range(len(who))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return codes

        assert storm("1", list(range(VOTERS))) == [200] * VOTERS
        state = Community.of(store).votes.vote_state("2608.00001")
        assert (state.hf, state.local, state.total) == (7, VOTERS, 7 + VOTERS)
        api = httpx.get(f"{server.url}/api/papers/2608.00001").json()
        assert api["upvotes"] == 7 + VOTERS

        # upvoting again changes nothing; half withdraw at once
        assert storm("1", list(range(10))) == [200] * 10
        assert storm("0", list(range(0, VOTERS, 2))) == [200] * (VOTERS // 2)
        assert Community.of(store).votes.vote_state("2608.00001").local == VOTERS // 2
        for c, _ in clients:
            c.close()
    store.close()


def test_toggle_upvotes_then_withdraws(settings):
    store = open_store(community_settings(settings))
    try:
        store.import_records([hf_paper(1, 7, datetime.now(UTC).date())])
        user = Community.of(store).accounts.create_user("toggler", "x")
        states = [Community.of(store).votes.vote(user.id, "2608.00001") for _ in range(3)]
        assert [(s.voted, s.local, s.total) for s in states] == [
            (True, 1, 8),
            (False, 0, 7),
            (True, 1, 8),
        ]
        votes = Community.of(store).votes
        assert votes.vote(user.id, "2608.00001", True).local == 1  # upvoting again: still one
        assert votes.vote(user.id, "2608.00001", False).voted is False
    finally:
        store.close()
