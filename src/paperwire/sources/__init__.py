"""Sources: each turns one upstream format into :class:`paperwire.record.PaperRecord` values."""
