"""The lexical index's long-lived writers: one for a bulk import, one for a rebuild.

A tantivy writer holds the index directory's lock and costs about 0.4 s a commit, so bulk
work keeps one open across batches instead of one per call (``LexicalIndex.upsert``):
``BulkUpserter(index)`` for an import, ``BulkWriter(index)`` for a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable

from paperwire.search.lexical import LexicalIndex, to_document
from paperwire.store.views import SearchDoc


class BulkUpserter:
    """One writer kept open across the batches of a bulk import: upserts are staged and
    committed every so often (a tantivy commit costs about 0.4 s, so one per 2,000-paper
    batch was a fifth of the import).  Uncommitted work is lost on a crash; the journal in
    ``follow_state.py`` brings it back."""

    def __init__(self, index: LexicalIndex) -> None:
        self.index = index
        self.writer = index._writer()

    def stage(self, docs: Iterable[SearchDoc], gone: Iterable[int] = ()) -> None:
        for doc in docs:
            self.writer.delete_documents_by_term("pid", doc.id)
            self.writer.add_document(to_document(doc))
        for pid in gone:
            self.writer.delete_documents_by_term("pid", pid)

    def commit(self) -> None:
        self.writer.commit()
        self.index.refresh(force=True)

    def close(self, commit: bool = True) -> None:
        if commit:
            self.writer.commit()
        else:
            self.writer.rollback()
        self.writer.wait_merging_threads()
        self.index.refresh(force=True)


class BulkWriter:
    """One writer for a whole rebuild: add batches, commit once at the end."""

    def __init__(self, index: LexicalIndex) -> None:
        self.index = index
        self.writer = index._writer()

    def add(self, docs: Iterable[SearchDoc]) -> None:
        for doc in docs:
            self.writer.add_document(to_document(doc))

    def clear(self) -> None:
        self.writer.delete_all_documents()

    def commit(self) -> None:
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.index.refresh(force=True)
