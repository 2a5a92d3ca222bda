"""The community: accounts, upvotes, submissions, comments, organizations (docs/community.md).

``paperwire.community.web.install(app)`` wires it into the web app; the SQL lives in
``paperwire.community.repository`` (accounts, votes) and
``paperwire.community.content_repository`` (comments, organizations, submissions).
"""
