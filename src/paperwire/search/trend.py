"""Papers per month for a search: one tantivy range aggregation over the lexical index's day
and upvotes fast fields, no document read (the trend charts of issue #17)."""

from __future__ import annotations

import tantivy

from paperwire.core.trend import Month, MonthCount, count_by_month
from paperwire.search.lexical import Filters, LexicalIndex, rarest
from paperwire.search.query import ParsedQuery

TREND_TERMS = 8  # a trend counts papers with every word: a long query keeps its 8 rarest


def month_counts(
    lexical: LexicalIndex, q: ParsedQuery, filters: Filters, months: list[Month]
) -> list[MonthCount]:
    """Papers matching *every* word of ``q`` (and the filters), with their upvotes, per
    month: one aggregation over the day and upvotes fast fields, no document read."""
    if q.empty or not months:
        return count_by_month([], months)
    lexical.refresh()
    searcher = lexical.index.searcher()
    must, must_not = tantivy.Occur.Must, tantivy.Occur.MustNot
    subs = []
    for piece in rarest(q.pieces(), searcher, TREND_TERMS):
        clause, _errors = lexical.index.parse_query_lenient(piece, ["text"])
        subs.append((must, clause))
    subs += [
        (must_not, lexical.index.parse_query_lenient(w.lower(), ["text"])[0]) for w in q.excluded
    ]
    lo, hi = months[0].start.toordinal(), months[-1].end.toordinal()
    span = tantivy.Query.range_query(lexical.schema, "day", tantivy.FieldType.Integer, lo, hi)
    subs.append((must, span))
    subs += [(must, f) for f in lexical.filter_query(filters)]
    ranges = [
        {"key": m.key, "from": float(m.start.toordinal()), "to": float(m.end.toordinal() + 1)}
        for m in months
    ]
    agg = {
        "m": {
            "range": {"field": "day", "ranges": ranges},
            "aggs": {"u": {"sum": {"field": "upvotes"}}},
        }
    }
    found = searcher.aggregate(tantivy.Query.boolean_query(subs), agg)["m"]["buckets"]
    by_key = {b["key"]: b for b in found}
    out = []
    for m in months:
        b = by_key.get(m.key, {})
        out.append(
            MonthCount(m.key, int(b.get("doc_count", 0)), int(b.get("u", {}).get("value") or 0))
        )
    return out
