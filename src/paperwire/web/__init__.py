"""Pages, the HF-compatible JSON API and static files (see ``paperwire.web.app``)."""
