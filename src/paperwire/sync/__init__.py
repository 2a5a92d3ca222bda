"""The live sync: sources -> store, resumable, locked per source, with a run log."""

from paperwire.sync.runner import SOURCES, SourceResult, SyncOptions, run_sync
from paperwire.sync.status import SourceStatus, sync_status

__all__ = ["SOURCES", "SourceResult", "SourceStatus", "SyncOptions", "run_sync", "sync_status"]
