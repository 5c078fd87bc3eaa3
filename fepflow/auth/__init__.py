"""Authentication and authorisation core: secret hashing, access tokens, scopes, identities.

Nothing here knows FastAPI: the hub wraps these in dependencies, the CLI calls them directly.
"""

from fepflow.auth.identities import Identity, IdentityExists, IdentityStore
from fepflow.auth.passwords import hash_secret, verify_secret
from fepflow.auth.scopes import Scope, ScopeError, scope_allows, scopes_filter
from fepflow.auth.tokens import TokenClaims, TokenError, decode_token, encode_token

__all__ = [
    "Identity",
    "IdentityExists",
    "IdentityStore",
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
