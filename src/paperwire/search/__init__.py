"""Search by words (tantivy BM25) and by meaning (static embeddings), fused (docs/search.md)."""
