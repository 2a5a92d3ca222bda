"""The small core every slice may import, and which imports no slice: the clock, the
listing sources that count as curated, and the command-line options shared by every CLI."""
