"""Secrets are stored as argon2id hashes only; verifying never raises for a wrong secret."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()


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
