"""Authors: a page per name (papers, co-authors, organizations, feed), follows, and the
author filter of search and the digest.

Papers keep their authors as a list of names; there is no author table.  A name's papers are
found through the lexical index (its ``authors`` field, a phrase query) and then checked
against the stored names with the normalization of ``names.py``, so the page costs an index
lookup and one query, and the import does no extra work.  Names are not identities: two people
with one name share a page, which says so.
"""
