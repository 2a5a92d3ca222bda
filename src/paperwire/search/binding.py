"""Which database an index directory belongs to, and the hook that keeps it current.

Each database has a random identity (``store_meta``); an index directory records the one it
was built from, and ``bind`` refuses another (``IndexMismatch`` says what to do).  ``attach``
makes every committed import batch of a store update the index: the composition root
(``paperwire.context.open_store``) calls it.
"""

from __future__ import annotations

from collections.abc import Mapping

from paperwire.search.indexer import EMBED_INLINE_MAX, SearchIndex, open_index
from paperwire.settings import Settings
from paperwire.store.views import SearchDoc


class IndexMismatch(RuntimeError):
    """The index directory was built from another database."""


def bind(index: SearchIndex, store, *, rebind: bool = False) -> None:
    """Check that ``index`` holds ``store``'s papers (each database has a random identity,
    which the index records the first time); ``rebind`` after a rebuild from ``store``.

    An empty index is taken over; one from before identities existed is adopted when it holds
    as many papers as the store.  Otherwise IndexMismatch says what to do."""
    mine = store.identity()
    state = index.follow_state
    got = state.store_identity()
    if got == mine:
        return
    held = index.lexical.count()
    if rebind or held == 0 or (got is None and held == store.counts().papers):
        state.set_store_identity(mine)
        return
    raise IndexMismatch(
        f"the search index in {index.path} was built from another database"
        f" ({held:,} papers). Give this database an index directory of its"
        " own (PAPERWIRE_INDEX_DIR, or another PAPERWIRE_DATA_DIR), or rebuild this one for it"
        " with `paperwire index --rebuild` (the other database's index is then lost)."
    )


def attach(store, settings: Settings) -> SearchIndex:
    """Make every committed import batch of ``store`` update the search index (the root calls
    it when ``search_index_on_import`` is on)."""
    index = open_index(settings)
    bind(index, store)
    embed_small = settings.embed_on_import

    def on_import(ids: list[int], docs: Mapping[int, SearchDoc]) -> None:
        index.index_ids(store, ids, docs, embed=embed_small and len(ids) <= EMBED_INLINE_MAX)

    store.import_journal.append(index.follow_state.journal)
    store.import_listeners.append(on_import)
    return index
