"""Auth core without servers: secret hashing, token encoding and its failure modes, scope rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from fepflow.auth.passwords import hash_secret, verify_secret
from fepflow.auth.scopes import Scope, ScopeError, scope_allows, scopes_filter
from fepflow.auth.tokens import TokenError, decode_token, encode_token

KEY = "k" * 40


def test_secrets_are_salted_argon2_hashes() -> None:
    a, b = hash_secret("hunter2-but-longer"), hash_secret("hunter2-but-longer")
    assert a != b and a.startswith("$argon2id$")
    assert verify_secret(a, "hunter2-but-longer") and verify_secret(b, "hunter2-but-longer")
    assert not verify_secret(a, "hunter3-but-longer")
    assert not verify_secret("not a hash", "anything")
    with pytest.raises(ValueError):
        hash_secret("")


def test_token_round_trip_and_expiry() -> None:
    token, expires = encode_token("alice", ["acme-*-*"], secret=KEY, ttl=timedelta(minutes=10))
    claims = decode_token(token, secret=KEY)
    assert claims.subject == "alice" and claims.scopes == ("acme-*-*",)
    assert claims.expires_at == expires.replace(microsecond=0)
    old, _ = encode_token("alice", [], secret=KEY, now=datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(TokenError) as info:
        decode_token(old, secret=KEY)
    assert info.value.expired


def test_tampered_wrong_key_wrong_purpose_and_alg_none_are_refused() -> None:
    token, _ = encode_token("alice", ["a-b-c"], secret=KEY)
    head, _payload, sig = token.split(".")
    forged_payload = jwt.encode(
        {**jwt.decode(token, options={"verify_signature": False}), "sub": "root"}, "z" * 40
    )
    with pytest.raises(TokenError):
        decode_token(f"{head}.{forged_payload.split('.')[1]}.{sig}", secret=KEY)
    with pytest.raises(TokenError):
        decode_token(token, secret="other" * 10)
    unsigned = jwt.encode(jwt.decode(token, options={"verify_signature": False}), None, algorithm="none")
    with pytest.raises(TokenError):
        decode_token(unsigned, secret=KEY)
    link, _ = encode_token("alice", [], secret=KEY, purpose="drs-stream")
    with pytest.raises(TokenError, match="not a access"):
        decode_token(link, secret=KEY)
    assert decode_token(link, secret=KEY, purpose="drs-stream").subject == "alice"


@pytest.mark.parametrize(
    ("granted", "target", "allowed"),
    [
        ("acme-kinases-p1", "acme-kinases-p1", True),
        ("acme-kinases-p1", "acme-kinases-p2", False),
        ("acme-kinases-*", "acme-kinases-p2", True),
        ("acme-*-*", "acme-gpcr-x", True),
        ("acme-*-*", "acmex-gpcr-x", False),
        ("*-*-*", "any-thing-here", True),
        ("acme-*-*", "acme-*-*", False),  # a target is always concrete
        ("acme-*-*", "acme-gpcr", False),
    ],
)
def test_scope_matching(granted: str, target: str, allowed: bool) -> None:
    assert scope_allows([granted], target) is allowed


@pytest.mark.parametrize(
    "bad", ["acme-*-p1", "*-kinases-p1", "acme-kinases", "Acme-k-p", "a-b-c-d", "a--b", ""]
)
def test_invalid_scopes_are_refused(bad: str) -> None:
    with pytest.raises(ScopeError):
        Scope.parse(bad)
    assert not scope_allows([bad], "a-b-c")


def test_concrete_only_when_asked() -> None:
    with pytest.raises(ScopeError, match="concrete"):
        Scope.parse("acme-*-*", allow_wildcards=False)


def test_scopes_filter_uses_in_for_exact_and_prefix_regex_for_wildcards() -> None:
    assert scopes_filter(["a-b-c"]) == {"scopes": {"$in": ["a-b-c"]}}
    assert scopes_filter(["a-b-*", "x-*-*", "bad"]) == {
        "$or": [{"scopes": {"$regex": "^a-b-"}}, {"scopes": {"$regex": "^x-"}}]
    }
    assert scopes_filter(["*-*-*"]) == {"scopes": {"$regex": "^"}}
    assert scopes_filter([]) == {"scopes": {"$in": []}}
