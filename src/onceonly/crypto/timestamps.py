"""RFC 3161 trusted timestamps: the request for a message's SHA-256, and the check of an
authority's answer against the certificates it must chain to.

Thin wrappers of rfc3161-client (its ASN.1 and CMS checks); no primitive is implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import rfc3161_client
from cryptography import x509
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, VerifierBuilder


class TimestampInvalid(Exception):
    """An answer that is not a granted timestamp of the message by a trusted authority."""


@dataclass(frozen=True, slots=True)
class TimestampRequest:
    der: bytes  # application/timestamp-query
    nonce: int


def request_for(message: bytes) -> TimestampRequest:
    """A request for a timestamp of SHA-256(message), with a nonce and the signer's
    certificate asked for (so the token carries what its check needs but the root)."""
    built = (TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256)
             .nonce(nonce=True).cert_request(cert_request=True).build())
    return TimestampRequest(built.as_bytes(), int(built.nonce or 0))


def load_roots(pem: bytes) -> list[x509.Certificate]:
    """The certificates in a PEM file (an authority's root, or several)."""
    try:
        roots = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TimestampInvalid(f"not PEM certificates: {exc}") from exc
    return roots


def check_timestamp(answer: bytes, message: bytes, roots: list[x509.Certificate],
                    nonce: int | None = None) -> datetime:
    """The time an authority (chaining to one of `roots`) says `message` existed at: its
    answer (a DER TimeStampResp) must be granted, signed by a timestamping certificate
    that chains to a root, over SHA-256 of `message` (and carry `nonce` if given)."""
    if not roots:
        raise TimestampInvalid("no authority certificate to check the timestamp against")
    try:
        response = rfc3161_client.decode_timestamp_response(answer)
    except ValueError as exc:
        raise TimestampInvalid(f"not a timestamp response: {exc}") from exc
    builder = VerifierBuilder(roots=list(roots), nonce=nonce)
    try:
        builder.build().verify_message(response, message)
    except (rfc3161_client.VerificationError, ValueError) as exc:
        raise TimestampInvalid(str(exc)) from exc
    return response.tst_info.gen_time
