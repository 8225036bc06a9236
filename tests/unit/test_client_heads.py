"""The client's tree heads (onceonly_client.heads): equal by their fields whichever side made
them, the exchange's subclass included; read only when the operator signed them."""

from __future__ import annotations

import pytest

from onceonly.audit.heads import TreeHead as ExchangeHead
from onceonly.crypto.signing import SigningKey, jwks
from onceonly_client.heads import (
    HeadRef,
    SignedTreeHead,
    TreeHead,
    check_shown_fields,
    read_tree_head,
    verify_tree_head,
)
from onceonly_client.signatures import SignatureInvalid

PREVIOUS = HeadRef(1, b"p" * 32)


@pytest.mark.parametrize("other", [
    TreeHead(3, b"r" * 32, 1000, HeadRef(1, b"q" * 32)),
    TreeHead(4, b"r" * 32, 1000, PREVIOUS),
    TreeHead(3, b"s" * 32, 1000, PREVIOUS),
    TreeHead(3, b"r" * 32, 1001, PREVIOUS),
    TreeHead(3, b"r" * 32, 1000, None),
])
def test_heads_differing_in_any_field_differ(other: TreeHead) -> None:
    head = TreeHead(3, b"r" * 32, 1000, PREVIOUS)
    assert head != other and other != head


def test_heads_of_the_same_fields_are_equal_and_hash_alike_across_sides() -> None:
    client = TreeHead(3, b"r" * 32, 1000, PREVIOUS)
    exchange = ExchangeHead(3, b"r" * 32, 1000, PREVIOUS)
    assert client == exchange and exchange == client
    assert hash(client) == hash(exchange) == hash(TreeHead(3, b"r" * 32, 1000, PREVIOUS))
    assert len({client, exchange}) == 1
    assert hash(client) != hash(TreeHead(4, b"r" * 32, 1000, PREVIOUS))
    assert client.__eq__("a head") is NotImplemented


def signed(key: SigningKey, head: ExchangeHead) -> dict:
    return SignedTreeHead(head, key.sign(head.payload())).as_json()


def test_a_head_signed_by_the_operator_reads_back_whole() -> None:
    operator = SigningKey.generate("GOV/EXCHANGE")
    head = ExchangeHead(3, b"r" * 32, 1000, PREVIOUS)
    document = signed(operator, head)
    read, signature, payload = read_tree_head(document, jwks([operator.public_jwk()]))
    assert read == head and read.previous == PREVIOUS
    assert signature == document["signature"] and payload == head.payload()
    assert verify_tree_head(document, jwks([operator.public_jwk()])).head == head


def test_a_head_without_previous_reads_back_without() -> None:
    operator = SigningKey.generate("GOV/EXCHANGE")
    head = ExchangeHead(2, b"r" * 32, 7)
    read, _, _ = read_tree_head(signed(operator, head), jwks([operator.public_jwk()]))
    assert read.previous is None and read == head


def test_a_head_signed_by_another_organisation_is_refused() -> None:
    provider = SigningKey.generate("GOV/HMRC")
    document = signed(provider, ExchangeHead(2, b"r" * 32, 7))
    with pytest.raises(SignatureInvalid, match="no key of GOV/EXCHANGE"):
        read_tree_head(document, jwks([provider.public_jwk()]))
    assert read_tree_head(document, jwks([provider.public_jwk()]), "GOV/HMRC")[0].tree_size == 2
    verified = verify_tree_head(document, jwks([provider.public_jwk()]), "GOV/HMRC")
    assert verified.signature == document["signature"] and verified.head.tree_size == 2


def test_a_document_that_is_no_head_is_refused() -> None:
    with pytest.raises(SignatureInvalid, match="not a tree head"):
        read_tree_head({"tree_size": 1}, {"keys": []})


def test_plain_fields_that_differ_from_the_signed_ones_are_refused() -> None:
    head = TreeHead(3, b"r" * 32, 1000, PREVIOUS)
    document = {**head.as_json(), "signature": "x"}
    check_shown_fields(document, head)
    for key, value in (("tree_size", 4), ("timestamp", 1), ("previous", None),
                       ("root_hash", "AAAA")):
        with pytest.raises(SignatureInvalid, match="differ from what its signature covers"):
            check_shown_fields({**document, key: value}, head)


def test_the_exchange_reads_a_head_of_the_log_org_it_is_given() -> None:
    from onceonly.audit.heads import verify_tree_head as exchange_verify

    provider = SigningKey.generate("GOV/HMRC")
    head = ExchangeHead(2, b"r" * 32, 7)
    document = signed(provider, head)
    assert exchange_verify(document, jwks([provider.public_jwk()]), "GOV/HMRC").head == head
    with pytest.raises(SignatureInvalid, match="no key of GOV/EXCHANGE"):
        exchange_verify(document, jwks([provider.public_jwk()]))
