"""Which listing sources are curated: a paper listed by HF's daily papers or submitted by a
signed-in reader appears on the day pages; arXiv's own announcements do not."""

CURATED = ("hf", "community")
