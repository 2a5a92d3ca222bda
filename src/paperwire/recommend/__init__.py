"""Personal recommendations ("For you"): ranking, library import, CLI."""
