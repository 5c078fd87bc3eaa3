"""Authentication and authorisation core: secret hashing, access tokens, scopes (identities are
stored by :class:`fepflow.store.identities.IdentityStore`).

Nothing here knows FastAPI: the hub wraps these in dependencies, the CLI calls them directly.
"""

from fepflow.auth.passwords import hash_secret, verify_secret
from fepflow.auth.scopes import Scope, ScopeError, scope_allows, scopes_filter
from fepflow.auth.tokens import TokenClaims, TokenError, decode_token, encode_token

__all__ = [
    "Scope",
    "ScopeError",
    "TokenClaims",
    "TokenError",
    "decode_token",
    "encode_token",
    "hash_secret",
    "scope_allows",
    "scopes_filter",
    "verify_secret",
]
