"""docs/deploy.md, exercised: scripts/deploy-check runs its commands against the local
PostgreSQL server, two real `paperwire serve` nodes behind a real nginx, `systemd-analyze
verify` on the unit, a pg_dump backup restored into a second database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import HF_DIR, PG_URL, needs_shared

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "deploy.md"


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing: .ci/run installs it")
        pytest.skip(f"{tool} is not installed (apt-get install {tool})")


@pytest.mark.postgres
def test_the_deploy_guide_runs(tmp_path):
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set PAPERWIRE_TEST_PG_URL (as .ci/run does)")
    needs_shared(HF_DIR)
    _need("nginx")
    _need("pg_dump")
    env = {**os.environ, "PAPERWIRE_SHARED": str(HF_DIR.parent.parent), "TMPDIR": str(tmp_path)}
    proc = subprocess.run(
        [str(ROOT / "scripts" / "deploy-check")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "deploy-check: all steps passed" in out
    assert "both nodes answered requests through nginx" in out
    assert "restored database holds the same papers" in out


def test_the_guide_names_only_real_files_and_commands():
    text = DOC.read_text()
    for path in re.findall(r"`((?:deploy|scripts)/[\w@.\-/]+)`", text):
        assert (ROOT / path).exists(), f"docs/deploy.md names {path}, which is missing"
    from typer.main import get_command

    from paperwire.cli import app

    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    used = set(re.findall(r"^\s*(?:sudo -u paperwire )?paperwire ([a-z]+)", text, re.M))
    assert used, "the guide shows paperwire commands"
    assert used <= commands, f"unknown commands in docs/deploy.md: {used - commands}"


def test_migrate_check_and_runs_commands(db_url, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from paperwire import ops_cli
    from paperwire.cli import app
    from paperwire.settings import Settings
    from paperwire.store.db import make_engine
    from paperwire.store.scheduled_runs import ScheduleLog

    # an empty database (the settings fixture's is already migrated)
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, secret_key="test-key")
    monkeypatch.setattr(ops_cli.console, "width", 200)
    runner = CliRunner()
    db = ["--db", settings.resolved_database_url]
    behind = runner.invoke(app, ["migrate", "--check", *db])
    assert behind.exit_code == 1 and "empty" in behind.output
    assert runner.invoke(app, ["migrate", *db]).exit_code == 0
    ok = runner.invoke(app, ["migrate", "--check", *db])
    assert ok.exit_code == 0 and "up to date" in ok.output
    assert "No scheduled run yet" in runner.invoke(app, ["runs", *db]).output

    engine = make_engine(settings.resolved_database_url)
    try:
        log = ScheduleLog(engine)
        assert log.claim("sync", "2026-11-24T06:30", "hostA:42:abc")
        log.finish("sync", "2026-11-24T06:30", "hostA:42:abc", "done", "hf: ok, 3 new")
    finally:
        engine.dispose()
    shown = runner.invoke(app, ["runs", *db])
    assert shown.exit_code == 0
    assert "2026-11-24T06:30" in shown.output and "hostA:42:abc" in shown.output
