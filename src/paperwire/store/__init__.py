"""The store: all SQL lives here (SQLAlchemy 2.x; SQLite by default, PostgreSQL by URL)."""

from paperwire.store import (  # noqa: F401  (registers tables)
    author_models,
    collection_models,
    community_models,
    digest_models,
    recommend_models,
    schedule_models,
    sync_models,
)
from paperwire.store.db import open_store
from paperwire.store.queries import Store

__all__ = ["Store", "open_store"]
