"""``paperwire serve`` as a real subprocess (a node), for the multi-node and browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import free_port

CLI = [sys.executable, "-c", "from paperwire.cli import main; main()"]


def paperwire(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run one ``paperwire`` command to completion; its output, or an error with it."""
    proc = subprocess.run(
        [*CLI, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(f"paperwire {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout + proc.stderr


class ServeProcess:
    """``paperwire serve`` on a free loopback port with this environment; logs to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.env = {**os.environ, **env}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self.args = list(args)
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServeProcess:
        if self.proc is not None and self.proc.poll() is None:
            return self  # already running: a second Popen would leak the first server
        self._log = self.log_path.open("w")
        cmd = [*CLI, "serve", "--port", str(self.port), *self.args]
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout: float = 90) -> ServeProcess:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/api/whoami", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("paperwire serve did not start:\n" + self.log())
            time.sleep(0.2)

    def __enter__(self) -> ServeProcess:
        return self.start().wait_ready()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
