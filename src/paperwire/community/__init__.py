"""The community: accounts, upvotes, submissions, comments, organizations (docs/community.md).

``paperwire.community.web.install(app)`` wires it into the web app; the SQL lives in
``paperwire.store.community_queries``.
"""
