"""Where fepflow keeps things: the MongoDB index and the content-addressed object store.

The index (``index.Index``) holds one store per kind of record, and nothing outside this package
queries a collection: ``models`` (keyed models: components, chemical systems, transformations and
networks, written and rebuilt whole), ``networks``, ``transformations``, ``tasks`` (the task queue),
``results`` (results and their DRS objects), ``identities``; ``estimates`` and ``rollups`` gather
results into estimates. ``objects/`` is the object store; ``publish`` puts a result in both.
"""
