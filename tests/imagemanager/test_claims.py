"""One reading of a token's subject and expiry, for the client and for stored credentials."""

from datetime import UTC, datetime

import jwt
import pytest

from imgdash.clusters import services
from imgdash.imagemanager import TokenFacts, describe_token


def token(**claims):
    return jwt.encode(claims, "k" * 32, algorithm="HS256")


@pytest.mark.parametrize(
    ("claims", "subject"),
    [
        ({"sub": "alice", "name": "Alice A.", "preferred_username": "al"}, "alice"),
        ({"name": "Alice A.", "preferred_username": "al"}, "Alice A."),
        ({"preferred_username": "al", "uniqueSecurityName": "uid=al"}, "al"),
        (
            {"uniqueSecurityName": "uid=al,o=defaultWIMFileBasedRealm"},
            "uid=al,o=defaultWIMFileBasedRealm",
        ),
        ({"sub": "", "name": "Alice A."}, "Alice A."),
        ({"sub": 42, "name": "Alice A."}, "Alice A."),
        ({}, ""),
    ],
)
def test_it_takes_the_first_subject_claim_that_is_text(claims, subject):
    assert describe_token(token(**claims)).subject == subject


def test_the_subject_is_cut_to_200_characters():
    assert describe_token(token(sub="x" * 500)).subject == "x" * 200


@pytest.mark.parametrize(
    ("exp", "expected"),
    [
        (1_700_000_000, datetime.fromtimestamp(1_700_000_000, UTC)),
        (1_700_000_000.5, datetime.fromtimestamp(1_700_000_000.5, UTC)),
        (True, None),
        (0, None),
        (-5, None),
        (2**37, None),
        ("1700000000", None),
        (None, None),
    ],
)
def test_the_expiry_must_be_a_plausible_number_of_seconds(exp, expected):
    facts = describe_token(token(sub="a", exp=exp))
    assert facts.expires_at == expected
    if expected is not None:
        assert facts.expires_at.tzinfo is UTC


def test_the_facts_unpack_as_a_pair():
    subject, expires_at = describe_token(token(sub="a", exp=1_700_000_000))
    assert (subject, expires_at.year) == ("a", 2023)
    assert describe_token("not a token") == TokenFacts("", None)


def test_stored_credentials_read_tokens_the_same_way():
    assert services.describe_token is describe_token
