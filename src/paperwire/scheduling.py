"""Daily jobs inside ``paperwire serve`` that run once per day across all nodes.

Every serving process runs the same schedule (the daily sync, the digests).  Each day's run
of a job is a *slot*, named by the time it falls due (``2026-11-24T06:30``).  Before running a
slot a node claims it in the database (``store/scheduled_runs.py``): one node wins, the
others skip it, so nothing is synced or sent twice however many nodes serve.  A node checks
every ``check_every`` seconds whether the latest due slot still needs running, so a slot
missed while every node was down, or left behind by a node that died mid-run (its
heartbeat goes stale), is picked up by whichever node looks first.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from paperwire.settings import Settings
from paperwire.store.scheduled_runs import STALE_AFTER, ScheduleLog

log = logging.getLogger("paperwire.schedule")
HEARTBEAT_EVERY = 30.0  # seconds between heartbeats of a running slot
CHECK_EVERY = 60.0  # seconds between looks at the latest due slot
_NONCE = uuid.uuid4().hex[:6]


def node_id() -> str:
    """This process, as other nodes see it in the run log: ``host:pid:nonce``."""
    return f"{socket.gethostname()}:{os.getpid()}:{_NONCE}"


def parse_hhmm(text: str, name: str, example: str) -> time:
    try:
        hours, minutes = (int(x) for x in text.strip().split(":"))
        return time(hours, minutes)
    except (ValueError, TypeError):
        msg = f"{name} must be HH:MM (UTC), e.g. {example}; got {text!r}"
        raise ValueError(msg) from None


def latest_slot(at: time, now: datetime | None = None) -> datetime:
    """The latest daily time ``at`` (aware UTC) that is not after ``now``."""
    now = now or datetime.now(UTC)
    today = datetime.combine(now.date(), at, tzinfo=UTC)
    return today if today <= now else today - timedelta(days=1)


def slot_key(slot: datetime) -> str:
    return slot.strftime("%Y-%m-%dT%H:%M")


class DailyJob(threading.Thread):
    """Runs ``work`` once per daily slot at ``at`` (UTC) across every node on the database.

    ``satisfied(slot)`` may say that a slot needs no run (e.g. a manual sync already ran after
    it).  ``work()`` returns a line for the run log; an exception marks the slot ``error``
    (the next slot runs as usual).
    """

    def __init__(
        self,
        job: str,
        settings: Settings,
        at: time,
        work: Callable[[], str | None],
        *,
        satisfied: Callable[[datetime], bool] | None = None,
        first_delay: float | None = None,
        check_every: float = CHECK_EVERY,
        stale_after: float = STALE_AFTER,
    ) -> None:
        super().__init__(name=f"paperwire-{job}", daemon=True)
        self.job, self.settings, self.at, self.work = job, settings, at, work
        self.satisfied = satisfied
        self.first_delay = settings.schedule_delay if first_delay is None else first_delay
        self.check_every, self.stale_after = check_every, stale_after
        self._stop_event = threading.Event()
        self._settled: set[str] = set()  # slots finished here or elsewhere
        self._engine = None
        self.runs = 0  # slots this node ran
        self.skipped = 0  # slots another node had claimed

    # -- control --------------------------------------------------------------------
    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)

    @property
    def engine(self):
        if self._engine is None:
            from paperwire.store.db import make_engine, migrate

            engine = make_engine(self.settings.resolved_database_url)
            migrate(engine)  # a no-op after `paperwire serve` migrated at start
            self._engine = engine
        return self._engine

    def run(self) -> None:
        try:
            if self._stop_event.wait(self.first_delay):
                return
            while not self._stop_event.is_set():
                self.tick()
                now = datetime.now(UTC)
                nxt = latest_slot(self.at, now) + timedelta(days=1)
                wait = min((nxt - now).total_seconds(), self.check_every)
                if self._stop_event.wait(max(wait, 0.0)):
                    return
        finally:
            if self._engine is not None:
                self._engine.dispose()

    # -- one look -------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> str | None:
        """Run the latest due slot if it still needs running; returns what happened."""
        slot = latest_slot(self.at, now)
        key = slot_key(slot)
        if key in self._settled:
            return None
        try:
            if self.satisfied is not None and self.satisfied(slot):
                self._settled.add(key)
                return "satisfied"
            return self._run_slot(key)
        except Exception:  # keep the server and the schedule alive; retried next look
            log.exception("%s: cannot check slot %s", self.job, key)
            return "failed"

    def _run_slot(self, key: str) -> str:
        runs = ScheduleLog(self.engine)
        node = node_id()
        if not runs.claim(self.job, key, node, self.stale_after):
            seen = runs.get(self.job, key)
            if seen is not None and seen.status != "running":
                self._settled.add(key)
                self.skipped += 1
                log.info("%s %s: already %s by %s", self.job, key, seen.status, seen.node)
                return "taken"
            if seen is not None:
                log.info("%s %s: running on %s", self.job, key, seen.node)
            return "running elsewhere"
        log.info("%s %s: claimed by %s", self.job, key, node)
        beat_stop = threading.Event()

        def beat() -> None:
            while not beat_stop.wait(HEARTBEAT_EVERY):
                try:
                    if not runs.heartbeat(self.job, key, node):
                        log.warning("%s %s: another node took this run over", self.job, key)
                        return
                except Exception:  # a database hiccup: the next beat tries again
                    log.exception("%s %s: heartbeat failed", self.job, key)

        beater = threading.Thread(target=beat, daemon=True, name=f"paperwire-{self.job}-beat")
        beater.start()
        status, detail = "done", None
        try:
            detail = self.work()
        except Exception as exc:
            status, detail = "error", f"{type(exc).__name__}: {exc}"
            log.exception("%s %s failed", self.job, key)
        finally:
            beat_stop.set()
            beater.join(5)
            runs.finish(self.job, key, node, status, detail)
            self._settled.add(key)
            self.runs += 1
        return status
