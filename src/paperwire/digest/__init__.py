"""Email digests: subscriptions, composition, sending exactly once (docs/digest.md)."""
