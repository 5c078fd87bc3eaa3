"""Secrets are stored as argon2id hashes only; verifying never raises for a wrong secret.

Parameters: OWASP's argon2id recommendation, 19 MiB of memory, 2 passes, 1 lane. Each verification
holds the memory while it runs; the hub bounds how many run at once (``login_concurrency``), so
logins cost at most that many times 19 MiB. Hashes made with other parameters are re-hashed at the
next successful login (:func:`needs_rehash`).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ARGON2_MEMORY_KIB = 19 * 1024  # memory each hash and verification holds, KiB
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

_HASHER = PasswordHasher(
    time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM
)


def hash_secret(secret: str) -> str:
    """An argon2id hash of ``secret`` (salted: two calls give two different strings)."""
    if not secret:
        raise ValueError("a secret must not be empty")
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    """True when ``secret`` matches ``stored_hash``; False for a mismatch or an unreadable hash."""
    try:
        return _HASHER.verify(stored_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    return _HASHER.check_needs_rehash(stored_hash)
