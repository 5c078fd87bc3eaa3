"""The hub's wire contract and its Python client: ``schemas`` (every request and response body, shared
by the hub in ``api/`` and by the client), ``client`` (typed calls per endpoint) and ``token_file``
(where a login is kept). Nothing here imports FastAPI."""
