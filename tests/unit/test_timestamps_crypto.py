"""RFC 3161 requests and the check of an authority's answers, with answers from a real
`openssl ts -reply` and a test CA made here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import rfc3161_client

from onceonly.crypto.timestamps import (
    TimestampInvalid,
    check_timestamp,
    load_roots,
    request_for,
)
from tests.support.tsa import TestAuthority


@pytest.fixture(scope="module")
def authority(tmp_path_factory) -> Iterator[TestAuthority]:
    tsa = TestAuthority(tmp_path_factory.mktemp("tsa"))
    tsa.down()  # answered directly: no HTTP needed here
    yield tsa
    tsa.close()


@pytest.fixture(scope="module")
def stranger(tmp_path_factory) -> Iterator[TestAuthority]:
    tsa = TestAuthority(tmp_path_factory.mktemp("stranger"), name="Stranger")
    tsa.down()
    yield tsa
    tsa.close()


def test_a_request_asks_for_sha256_of_the_message_with_a_nonce_and_the_certificate():
    request = request_for(b"head")
    # read back by the library's own parser (not exported under a public name)
    decoded = rfc3161_client._rust.parse_timestamp_request(request.der)
    assert decoded.message_imprint.message == hashlib.sha256(b"head").digest()
    assert decoded.nonce == request.nonce and request.nonce > 0
    assert decoded.cert_req is True
    assert request_for(b"head").nonce != request.nonce


def test_an_answer_over_the_message_by_a_trusted_authority_gives_its_time(authority):
    request = request_for(b"head")
    answer = authority.reply(request.der)
    at = check_timestamp(answer, b"head", load_roots(authority.ca_file.read_bytes()),
                         request.nonce)
    assert at.tzinfo is not None
    assert abs(at - datetime.now(UTC)) < timedelta(minutes=5)
    assert check_timestamp(answer, b"head", load_roots(authority.ca_file.read_bytes())) == at


def test_an_answer_is_refused_for_another_message_nonce_or_authority(authority, stranger):
    request = request_for(b"head")
    answer = authority.reply(request.der)
    roots = load_roots(authority.ca_file.read_bytes())
    with pytest.raises(TimestampInvalid, match="Mismatch"):
        check_timestamp(answer, b"another head", roots)
    with pytest.raises(TimestampInvalid, match="[Nn]once"):
        check_timestamp(answer, b"head", roots, request.nonce + 1)
    with pytest.raises(TimestampInvalid, match="certificate"):
        check_timestamp(answer, b"head", load_roots(stranger.ca_file.read_bytes()))
    with pytest.raises(TimestampInvalid) as none:
        check_timestamp(answer, b"head", [])
    assert str(none.value) == "no authority certificate to check the timestamp against"


def test_an_answer_that_is_not_one_is_refused(authority):
    roots = load_roots(authority.ca_file.read_bytes())
    with pytest.raises(TimestampInvalid, match="not a timestamp response"):
        check_timestamp(b"garbage", b"head", roots)
    answer = bytearray(authority.reply(request_for(b"head").der))
    answer[-10] ^= 1  # inside the signature
    with pytest.raises(TimestampInvalid):
        check_timestamp(bytes(answer), b"head", roots)


def test_roots_are_read_from_pem_and_anything_else_is_refused(authority, stranger):
    both = authority.ca_file.read_bytes() + stranger.ca_file.read_bytes()
    assert len(load_roots(both)) == 2
    with pytest.raises(TimestampInvalid, match="PEM"):
        load_roots(b"not a certificate")
