"""Search the region: one full-text index of a region's clusters, members, people, programmes,
plans, actions, workshops, comments and file names, kept current on every write.

``models`` holds the index table, ``documents`` what each kind puts into it, ``indexing`` the
flush listener and the rebuild, ``index`` the backend-neutral query API (PostgreSQL and SQLite's
FTS5 behind it, in ``backends``), ``services`` who finds what, and ``views`` the page.
"""
