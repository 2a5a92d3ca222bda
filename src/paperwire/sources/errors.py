"""Errors raised by sources for one bad record or one bad file."""

from __future__ import annotations


class RecordError(ValueError):
    """One input record could not be turned into a paper; it says where and why."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message

    def __reduce__(self) -> tuple[type[RecordError], tuple[str, str]]:
        # for the import's reader process (sources/files.py): the default pickles the one
        # joined message, which __init__ cannot take back
        return (type(self), (self.where, self.message))
