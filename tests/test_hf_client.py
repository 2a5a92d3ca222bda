"""The real ``huggingface_hub`` client, pointed at paperwire under uvicorn, reads our API."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from conftest import LiveServer
from paperwire.context import open_store
from paperwire.web.app import create_app
from web_helpers import august_files, hf_ids, import_files

DAY = "2026-08-21"


@pytest.fixture
def server(settings, shared_hf_dir, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    store = open_store(settings)
    import_files(store, august_files(shared_hf_dir))
    with LiveServer(create_app(settings, store)) as live:
        yield live
    store.close()


def test_hf_client_reads_paperwire(server, shared_hf_dir):
    api = HfApi(endpoint=server.url, token=False)

    papers = list(api.list_daily_papers(date=DAY))
    assert sorted(p.id for p in papers) == sorted(hf_ids(shared_hf_dir, DAY))
    top = papers[0]
    assert top.id == "2608.19880" and top.upvotes == 163
    assert top.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert top.authors and top.authors[0].name == "Chengsong Huang"
    assert top.organization is not None and top.organization.name == "google"
    assert top.submitted_by is not None and top.submitted_by.fullname == "taesiri"
    # (the client reads githubRepo only at the top level, which daily items, like HF's, lack)
    assert top.published_at is not None and top.submitted_at is not None

    week = list(api.list_daily_papers(week="2026-W34", limit=100))
    assert len(week) == 100
    trending = [p.id for p in api.list_daily_papers(month="2026-08", sort="trending")]
    assert trending[0] == "2608.19880" and len(trending) == 50

    info = api.paper_info("2608.19880")
    assert info.id == "2608.19880" and info.github_stars == 8
    assert info.project_page == "https://envharness.com/"
    assert "Environment Harness" in (info.ai_keywords or [])

    md = api.read_paper("2608.19880")
    assert md.startswith("# EnvHarness: Awakening Static Worlds for Agent Learning")
    assert "## Abstract" in md

    with pytest.raises(HfHubHTTPError) as err:
        api.paper_info("2609.00001")
    assert err.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as err:
        list(api.list_daily_papers(date="2026-13-45"))
    assert err.value.response.status_code == 400


def hf(server, *args: str) -> str:
    """The real ``hf`` command line (huggingface_hub's own), with HF_ENDPOINT at paperwire."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=server.url, HF_HUB_DISABLE_TELEMETRY="1", NO_COLOR="1")
    cmd = [sys.executable, "-c", "from huggingface_hub.cli.hf import main; main()", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"hf {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def test_every_hf_papers_command_runs_against_paperwire(server, shared_hf_dir):
    day = json.loads(hf(server, "papers", "ls", "--date", DAY, "--json"))
    assert sorted(p["id"] for p in day) == sorted(hf_ids(shared_hf_dir, DAY))
    week = hf(server, "papers", "ls", "--week", "2026-W34", "--limit", "100", "--json")
    assert len(json.loads(week)) == 100
    trending = json.loads(
        hf(server, "papers", "ls", "--month", "2026-08", "--sort", "trending", "--json")
    )
    assert trending[0]["id"] == "2608.19880"
    mine = json.loads(hf(server, "papers", "ls", "--date", DAY, "--submitter", "taesiri", "--json"))
    assert mine and len(mine) < len(day)
    assert all(p["submitted_by"]["fullname"] == "taesiri" for p in mine), mine[0]["submitted_by"]
    assert json.loads(hf(server, "papers", "ls", "--date", "today", "--json")) == []  # none today
    found = json.loads(hf(server, "papers", "search", "agent learning", "--limit", "5", "--json"))
    assert 0 < len(found) <= 5 and "2608.19880" in {p["id"] for p in found}
    info = json.loads(hf(server, "papers", "info", "2608.19880", "--json"))
    assert info["id"] == "2608.19880" and info["github_stars"] == 8
    assert hf(server, "papers", "read", "2608.19880").startswith("# EnvHarness")
