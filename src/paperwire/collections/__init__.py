"""Collections: a signed-in reader's named lists of papers, public or private, ordered, with a
note per paper; public ones have a page, feeds, a JSON API and a BibTeX export."""
