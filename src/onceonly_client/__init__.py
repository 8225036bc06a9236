"""onceonly-client: the exchange's Python client for integrators. It depends on httpx and
joserfc only (signing requests, RFC 9421, needs the `signatures` extra): it checks every
release, consent receipt and tree head against the keys of the organisation that must have
made it, and checks the audit log from outside with inclusion and consistency proofs."""

from onceonly_client.client import (
    RETRIED,
    SIGNATURE_HEADER,
    ExchangeError,
    LogCheck,
    OnceonlyClient,
    VerifiedRelease,
    retry_after,
)
from onceonly_client.heads import SignedTreeHead, TreeHead, verify_tree_head
from onceonly_client.jwe import DecryptionFailed, decrypt_with
from onceonly_client.signatures import SignatureInvalid, verify_compact, verify_detached

__all__ = ["RETRIED", "SIGNATURE_HEADER", "DecryptionFailed", "ExchangeError", "LogCheck",
           "OnceonlyClient", "SignatureInvalid", "SignedTreeHead", "TreeHead", "VerifiedRelease",
           "decrypt_with", "retry_after", "verify_compact", "verify_detached", "verify_tree_head"]
