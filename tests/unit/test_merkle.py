"""RFC 9162 Merkle tree maths against a reference written straight from the RFC's recursive
definitions (MTH, PATH, PROOF/SUBPROOF), the published test vectors, and tampering."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onceonly.audit.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    Node,
    consistency_proof,
    hash_leaves,
    inclusion_proof,
    inclusion_proofs,
    integrate,
    leaf_hash,
    node_hash,
    root,
    root_at,
    verify_consistency,
    verify_inclusion,
)

N = 64

# -- the reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1, on lists of leaf inputs -------------


def ref_k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return sha256(b"\x00" + d[0]).digest()
    k = ref_k(n)
    return sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = ref_k(n)
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = ref_k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def ref_sides(m: int, n: int) -> list[str]:
    """Which side of the running hash each element of PATH(m, D[n]) goes on."""
    if n == 1:
        return []
    k = ref_k(n)
    if m < k:
        return ref_sides(m, k) + ["right"]
    return ref_sides(m - k, n - k) + ["left"]


def ref_proof_sides(m: int, n: int, b: bool = True) -> list[str]:
    """The same for PROOF(m, D[n]): "seed" for MTH(D[m]) itself, "left" for an element of both
    trees, "right" for one of the second tree only."""
    if m == n:
        return [] if b else ["seed"]
    k = ref_k(n)
    if m <= k:
        return ref_proof_sides(m, k, b) + ["right"]
    return ref_proof_sides(m - k, n - k, False) + ["left"]


def ref_nodes(d: Sequence[bytes]) -> dict[Node, bytes]:
    """Every perfect subtree of the tree of d, by the reference."""
    return {(level, i): ref_mth(d[i << level:(i + 1) << level])
            for level in range(len(d).bit_length()) for i in range(len(d) >> level)}


LEAVES = [b"entry %d" % i + bytes([i % 256]) * (i % 7) for i in range(2 * N + 3)]
HASHES = [leaf_hash(leaf) for leaf in LEAVES]
TREE = MemoryTree(HASHES[:N])
REF_ROOTS = [ref_mth(LEAVES[:n]) for n in range(N + 1)]


def exists(node: Node, size: int) -> bool:
    level, index = node
    return level >= 0 and index >= 0 and (index + 1) << level <= size


def log_bound(n: int) -> int:
    return 2 * math.ceil(math.log2(max(n, 2))) + 2


class CountingReader:
    """A NodeReader over a store that records every call."""

    def __init__(self, store: Mapping[Node, bytes] | MemoryTree, size: int | None = None):
        self.store = store
        self.size = size
        self.calls: list[list[Node]] = []

    def __call__(self, nodes: Sequence[Node]) -> Mapping[Node, bytes]:
        nodes = list(nodes)
        self.calls.append(nodes)
        if self.size is not None:
            assert all(exists(node, self.size) for node in nodes), nodes
        if isinstance(self.store, MemoryTree):
            return self.store.read(nodes)
        return {node: self.store[node] for node in nodes}


# -- known answers: the RFC 6962 vectors of certificate-transparency-go / trillian -------------

VECTOR_INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
VECTOR_ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
VECTOR_LEAF_HASHES = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
)]
H = {name: bytes.fromhex(h) for name, h in {
    "01": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "23": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "45": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "67": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "0123": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4567": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
}.items()}
LH = VECTOR_LEAF_HASHES
VECTOR_INCLUSION = [  # (index, size, path)
    (0, 8, [LH[1], H["23"], H["4567"]]),
    (5, 8, [LH[4], H["67"], H["0123"]]),
    (2, 3, [H["01"]]),
    (1, 5, [LH[0], H["23"], LH[4]]),
    (0, 1, []),
]
VECTOR_CONSISTENCY = [  # (first, second, path)
    (1, 8, [LH[1], H["23"], H["4567"]]),
    (6, 8, [H["45"], H["67"], H["0123"]]),
    (2, 5, [H["23"], LH[4]]),
    (6, 7, [H["45"], LH[6], H["0123"]]),
    (1, 1, []),
]


def test_the_vectors_agree_with_the_reference():
    # Checked against the reference first, so a typo in the hex cannot pass for a bug.
    assert [ref_mth(VECTOR_INPUTS[:n]) for n in range(9)] == VECTOR_ROOTS
    assert [ref_mth([x]) for x in VECTOR_INPUTS] == VECTOR_LEAF_HASHES
    for index, size, path in VECTOR_INCLUSION:
        assert ref_path(index, VECTOR_INPUTS[:size]) == path
    for first, second, path in VECTOR_CONSISTENCY:
        assert ref_proof(first, VECTOR_INPUTS[:second]) == path


def test_known_answers():
    hashes = [leaf_hash(x) for x in VECTOR_INPUTS]
    assert hashes == VECTOR_LEAF_HASHES
    assert [root(hashes[:n]) for n in range(9)] == VECTOR_ROOTS
    assert root(hashes).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    tree = MemoryTree(hashes)
    assert [tree.root(n) for n in range(9)] == VECTOR_ROOTS
    assert tree.levels[1] == [H["01"], H["23"], H["45"], H["67"]]
    assert tree.levels[2] == [H["0123"], H["4567"]]
    for index, size, path in VECTOR_INCLUSION:
        assert tree.inclusion_proof(index, size) == path
        assert verify_inclusion(hashes[index], index, size, path, VECTOR_ROOTS[size])
    for first, second, path in VECTOR_CONSISTENCY:
        assert tree.consistency_proof(first, second) == path
        assert verify_consistency(first, second, VECTOR_ROOTS[first], VECTOR_ROOTS[second], path)


# -- roots -------------------------------------------------------------------------------------


def test_hashing_primitives():
    assert EMPTY_ROOT == sha256(b"").digest() == root([]) == MemoryTree().root()
    assert leaf_hash(b"abc") == sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    assert hash_leaves([b"abc", b"", b"\x00"]) == [leaf_hash(b"abc"), leaf_hash(b""),
                                                   leaf_hash(b"\x00")]
    assert hash_leaves([]) == []


def test_every_root_up_to_twice_n_matches_the_reference():
    tree = MemoryTree()
    for n in range(len(LEAVES) + 1):
        expected = ref_mth(LEAVES[:n])
        assert root(HASHES[:n]) == expected, n
        assert tree.root() == expected, n
        if n < len(LEAVES):
            tree.extend(HASHES[n:n + 1])
    for n in range(len(LEAVES) + 1):
        assert tree.root(n) == ref_mth(LEAVES[:n])


def test_root_at_reads_once_and_only_the_decomposition():
    tree = MemoryTree(HASHES)
    for n in range(len(HASHES) + 1):
        reader = CountingReader(tree, size=n)
        assert root_at(n, reader) == root(HASHES[:n])
        assert len(reader.calls) == (1 if n else 0)
        assert sum(map(len, reader.calls)) == n.bit_count()


# -- inclusion -----------------------------------------------------------------------------------


def test_every_inclusion_proof_up_to_n_matches_the_reference_and_verifies():
    for size in range(1, N + 1):
        for index in range(size):
            reader = CountingReader(TREE, size=size)
            path = inclusion_proof(index, size, reader)
            assert path == ref_path(index, LEAVES[:size]), (index, size)
            assert len(reader.calls) <= 1
            assert sum(map(len, reader.calls)) <= log_bound(size)
            assert verify_inclusion(HASHES[index], index, size, path, REF_ROOTS[size])


def flipped(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[element])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:element], bytes(changed), *proof[element + 1:]]


def inclusion_tamperings(index: int, size: int, path: list[bytes]):
    """Every way a proof could be wrong that verification must catch, as verify arguments."""
    good_root = REF_ROOTS[size]
    leaf = HASHES[index]
    yield leaf, index, size, path, EMPTY_ROOT
    yield leaf, index, size, path, REF_ROOTS[size - 1]
    yield HASHES[index + 1], index, size, path, good_root
    yield leaf, index, size, [*path, good_root], good_root
    yield leaf, index, size, [good_root, *path], good_root
    yield leaf, index, size, [*path, b""], good_root
    if path:
        yield leaf, index, size, path[:-1], good_root
        yield leaf, index, size, path[1:], good_root
        yield leaf, index, size, [*path[:1], sha256(b"x").digest(), *path[1:]], good_root
    for wrong_index in {index - 1, index + 1, index ^ 2, index ^ 1, size}:
        yield leaf, wrong_index, size, path, good_root
    for wrong_size in (size * 2, size // 2):  # size +- 1: see the test of tree shapes below
        yield leaf, index, wrong_size, path, good_root
    for element in range(len(path)):
        bit = (index * 31 + size * 7 + element * 13) % 256
        yield leaf, index, size, flipped(path, element, bit), good_root


def test_any_tampering_with_an_inclusion_proof_fails():
    for size in range(1, N + 1):
        for index in range(size):
            path = TREE.inclusion_proof(index, size)
            for args in inclusion_tamperings(index, size, path):
                assert not verify_inclusion(*args), (index, size, args[1:3])


def test_a_wrong_size_fails_unless_the_tree_shapes_coincide():
    # The path does not carry the tree size: PATH(0, D[3]) = [h1, h2] and PATH(0, D[4]) =
    # [h1, MTH(D[2:4])] are hashed the same way, so the first also "verifies" against the size-3
    # root as a size-4 proof. That is RFC 9162's algorithm as written: the size is bound by the
    # signed tree head, not by the path. Anything else about a wrong size must fail.
    assert verify_inclusion(HASHES[0], 0, 4, TREE.inclusion_proof(0, 3), REF_ROOTS[3])
    for size in range(1, N + 1):
        for index in range(size):
            path = TREE.inclusion_proof(index, size)
            for wrong in {size - 1, size + 1, size * 2, size // 2} - {size}:
                same_shape = index < wrong and ref_sides(index, wrong) == ref_sides(index, size)
                assert verify_inclusion(HASHES[index], index, wrong, path,
                                        REF_ROOTS[size]) == same_shape, (index, size, wrong)
    for second in range(2, N + 1):
        for first in range(1, second):
            path = TREE.consistency_proof(first, second)
            r1, r2 = REF_ROOTS[first], REF_ROOTS[second]
            for wrong in {second - 1, second + 1, second * 2, second // 2} - {second}:
                same_shape = first < wrong and (
                    ref_proof_sides(first, wrong) == ref_proof_sides(first, second))
                assert verify_consistency(first, wrong, r1, r2, path) == same_shape, (
                    first, second, wrong)


def test_flipping_every_bit_of_every_element_fails():
    for index, size in [(0, 8), (5, 8), (6, 7), (12, 13), (0, 33), (40, 64), (63, 64)]:
        path = TREE.inclusion_proof(index, size)
        for element in range(len(path)):
            for bit in range(256):
                assert not verify_inclusion(HASHES[index], index, size,
                                            flipped(path, element, bit), REF_ROOTS[size])


def test_inclusion_in_a_one_leaf_tree():
    assert TREE.inclusion_proof(0, 1) == []
    assert verify_inclusion(HASHES[0], 0, 1, [], HASHES[0])
    assert not verify_inclusion(HASHES[0], 0, 1, [], HASHES[1])
    assert not verify_inclusion(HASHES[0], 0, 1, [HASHES[0]], HASHES[0])
    assert not verify_inclusion(HASHES[0], 1, 1, [], HASHES[0])
    assert not verify_inclusion(EMPTY_ROOT, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(HASHES[0], -1, 1, [], HASHES[0])


# -- consistency ---------------------------------------------------------------------------------


def test_every_consistency_proof_up_to_n_matches_the_reference_and_verifies():
    for second in range(1, N + 1):
        for first in range(1, second + 1):
            reader = CountingReader(TREE, size=second)
            path = consistency_proof(first, second, reader)
            assert path == ref_proof(first, LEAVES[:second]), (first, second)
            assert len(reader.calls) <= 1
            assert sum(map(len, reader.calls)) <= log_bound(second)
            assert verify_consistency(first, second, REF_ROOTS[first], REF_ROOTS[second], path)


def consistency_tamperings(first: int, second: int, path: list[bytes]):
    r1, r2 = REF_ROOTS[first], REF_ROOTS[second]
    yield first, second, r1, r2, []
    yield first, second, r2, r1, path
    yield first, second, EMPTY_ROOT, r2, path
    yield first, second, r1, EMPTY_ROOT, path
    yield first, second, REF_ROOTS[first - 1], r2, path
    yield first, second, r1, REF_ROOTS[second - 1], path
    yield first, second, r1, r2, path[:-1]
    yield first, second, r1, r2, path[1:]
    yield first, second, r1, r2, [*path, r1]
    yield first, second, r1, r2, [*path, r2]
    yield first, second, r1, r2, [*path, b""]
    yield first, second, r1, r2, [r1, *path]
    yield first, second, r1, r2, [path[0], *path]
    for wrong_first in {first - 1, first + 1, first ^ 2} - {first}:
        yield wrong_first, second, r1, r2, path
    for wrong_second in (second * 2, second // 2):
        yield first, wrong_second, r1, r2, path
    for element in range(len(path)):
        bit = (first * 31 + second * 7 + element * 13) % 256
        yield first, second, r1, r2, flipped(path, element, bit)


def test_any_tampering_with_a_consistency_proof_fails():
    for second in range(2, N + 1):
        for first in range(1, second):
            path = TREE.consistency_proof(first, second)
            for args in consistency_tamperings(first, second, path):
                assert not verify_consistency(*args), (first, second, args[:2])


def test_flipping_every_bit_of_every_consistency_element_fails():
    for first, second in [(1, 8), (6, 8), (6, 7), (3, 64), (32, 33), (13, 50)]:
        path = TREE.consistency_proof(first, second)
        for element in range(len(path)):
            for bit in range(256):
                assert not verify_consistency(first, second, REF_ROOTS[first],
                                              REF_ROOTS[second], flipped(path, element, bit))


def test_consistency_edges():
    r5 = REF_ROOTS[5]
    assert TREE.consistency_proof(5, 5) == []
    assert TREE.consistency_proof(0, 5) == []
    assert verify_consistency(5, 5, r5, r5, [])
    assert not verify_consistency(5, 5, r5, REF_ROOTS[4], [])
    assert not verify_consistency(5, 5, r5, r5, [r5])
    assert verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 5, r5, r5, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, r5, [EMPTY_ROOT])
    assert not verify_consistency(5, 4, r5, REF_ROOTS[4], [r5])
    assert not verify_consistency(-1, 4, r5, REF_ROOTS[4], [r5])


# -- bad arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "message"), [
    (lambda: TREE.inclusion_proof(0, 0), "not in a tree of size 0"),
    (lambda: TREE.inclusion_proof(5, 5), "not in a tree of size 5"),
    (lambda: TREE.inclusion_proof(-1, 5), "index must be a non-negative"),
    (lambda: TREE.inclusion_proof(0, N + 1), "beyond the tree"),
    (lambda: TREE.consistency_proof(6, 5), "larger than second"),
    (lambda: TREE.consistency_proof(-1, 5), "first must be a non-negative"),
    (lambda: TREE.consistency_proof(1, N + 1), "beyond the tree"),
    (lambda: TREE.root(-1), "size must be a non-negative"),
    (lambda: TREE.root(N + 1), "beyond the tree"),
    (lambda: root_at(-3, TREE.read), "size must be a non-negative"),
    (lambda: inclusion_proof(3, 3, TREE.read), "not in a tree of size 3"),
    (lambda: consistency_proof(4, 3, TREE.read), "larger than second"),
    (lambda: integrate(-1, [], TREE.read), "old_size must be a non-negative"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_store_missing_a_node_is_not_bad_input():
    with pytest.raises(LookupError, match="missing"):
        root_at(3, lambda nodes: {})
    with pytest.raises(LookupError):
        TREE.read([(0, N)])
    with pytest.raises(LookupError):
        TREE.read([(0, -1)])


# -- integrate: batches, against building at once --------------------------------------------------


def integrate_in_batches(batches: list[int]) -> tuple[dict[Node, bytes], int]:
    store: dict[Node, bytes] = {}
    size = 0
    for batch in batches:
        new = HASHES[size:size + batch]
        reader = CountingReader(store, size=size)
        added = integrate(size, new, reader)
        assert len(reader.calls) <= 1
        assert sum(map(len, reader.calls)) <= log_bound(size)
        assert not added.keys() & store.keys(), "a node completes exactly once"
        assert all(exists(node, size + batch) and not exists(node, size) for node in added)
        store.update(added)
        size += batch
        assert root_at(size, CountingReader(store, size=size)) == ref_mth(LEAVES[:size])
    return store, size


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), max_size=10))
def test_integrate_in_any_batches_equals_building_at_once(batches):
    clipped, total = [], 0
    for batch in batches:  # as many as LEAVES holds; empty batches too
        batch = min(batch, len(LEAVES) - total)
        clipped.append(batch)
        total += batch
    store, size = integrate_in_batches(clipped)
    assert size == total
    assert store == ref_nodes(LEAVES[:size])


def test_integrate_one_by_one_and_all_at_once():
    one_by_one, _ = integrate_in_batches([1] * len(LEAVES))
    at_once, _ = integrate_in_batches([len(LEAVES)])
    assert one_by_one == at_once == ref_nodes(LEAVES)
    assert integrate(7, [], lambda nodes: pytest.fail("no read for nothing")) == {}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=8))
def test_memory_tree_extend_in_batches(batches):
    tree = MemoryTree()
    total = 0
    for batch in batches:
        tree.extend([leaf_hash(b"%d" % i) for i in range(total, total + batch)])
        total += batch
        assert tree.size == total
    hashes = [leaf_hash(b"%d" % i) for i in range(total)]
    assert tree.root() == root(hashes)
    assert tree.levels == [hashes, *[
        [root(hashes[i << level:(i + 1) << level]) for i in range(total >> level)]
        for level in range(1, total.bit_length())]]


# -- large trees: shapes, read counts and verification with a virtual tree ------------------------

# A tree whose every leaf is the same: node (l, i) hashes to LEVEL[l] whatever i, so a virtual
# tree of 2**40 leaves costs nothing, yet proofs from it must verify exactly.
LEVEL = [leaf_hash(b"same")]
for _ in range(62):
    LEVEL.append(node_hash(LEVEL[-1], LEVEL[-1]))


def virtual_root(size: int) -> bytes:
    return root_at(size, lambda nodes: {node: LEVEL[node[0]] for node in nodes})


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=2**40), st.data())
def test_large_inclusion_proofs_read_once_and_verify(size, data):
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    reader = CountingReader(_Levels(), size=size)
    path = inclusion_proof(index, size, reader)
    assert len(reader.calls) == (1 if size > 1 else 0)
    assert sum(map(len, reader.calls)) <= log_bound(size)
    assert len(path) <= (size - 1).bit_length()  # ceil(log2(size))
    assert verify_inclusion(LEVEL[0], index, size, path, virtual_root(size))
    assert not verify_inclusion(LEVEL[0], index, size, [*path, LEVEL[0]], virtual_root(size))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=2**40), st.data())
def test_large_consistency_proofs_read_once_and_verify(second, data):
    first = data.draw(st.integers(min_value=1, max_value=second - 1))
    reader = CountingReader(_Levels(), size=second)
    path = consistency_proof(first, second, reader)
    assert len(reader.calls) == 1
    assert sum(map(len, reader.calls)) <= log_bound(second)
    assert verify_consistency(first, second, virtual_root(first), virtual_root(second), path)
    assert not verify_consistency(first, second, virtual_root(first), virtual_root(second),
                                  path[:-1])


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**40), st.integers(min_value=1, max_value=5000))
def test_large_integrate_reads_only_the_border(old_size, batch):
    reader = CountingReader(_Levels(), size=old_size)
    added = integrate(old_size, [LEVEL[0]] * batch, reader)
    assert len(reader.calls) <= 1
    asked = reader.calls[0] if reader.calls else []
    assert len(asked) <= old_size.bit_count() <= log_bound(old_size)
    assert set(asked) <= {(level, (old_size >> level) - 1)
                          for level in range(old_size.bit_length()) if old_size >> level & 1}
    new_size = old_size + batch
    assert all(exists(node, new_size) and not exists(node, old_size) for node in added)
    assert all(digest == LEVEL[level] for (level, _), digest in added.items())
    # as many nodes as the new tree has beyond the old one, level by level
    assert len(added) == sum((new_size >> lv) - (old_size >> lv)
                             for lv in range(new_size.bit_length()))


class _Levels(dict):
    """The virtual tree as a store: any node of level l is LEVEL[l]."""

    def __missing__(self, node: Node) -> bytes:
        return LEVEL[node[0]]


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=3000), st.data())
def test_mid_size_trees_against_plain_roots(size, data):
    hashes = [leaf_hash(b"%d" % i) for i in range(size)]
    tree = MemoryTree(hashes)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    first = data.draw(st.integers(min_value=1, max_value=size))
    assert tree.root() == root(hashes)
    assert verify_inclusion(hashes[index], index, size, tree.inclusion_proof(index), root(hashes))
    assert verify_consistency(first, size, root(hashes[:first]), root(hashes),
                              tree.consistency_proof(first))


# -- forgeries that a weakened verifier would accept -------------------------------------------
# Each proof here verifies against a verifier missing one of its checks; the checks are what
# turns them away.

EXTRA = sha256(b"forged").digest()


def test_an_overlong_inclusion_path_never_verifies():
    # Past the root (sn == 0), a further element would be hashed in as a left sibling: a path
    # one element too long proves inclusion in node_hash(extra, root), a tree that is not there.
    for size in range(1, N + 1):
        for index in range(size):
            path = TREE.inclusion_proof(index, size)
            for extra in (EXTRA, REF_ROOTS[size]):
                assert not verify_inclusion(HASHES[index], index, size, [*path, extra],
                                            node_hash(extra, REF_ROOTS[size])), (index, size)
                assert not verify_inclusion(HASHES[index], index, size, [*path, extra],
                                            node_hash(REF_ROOTS[size], extra)), (index, size)
    assert not verify_inclusion(HASHES[0], 0, 1, [EXTRA], node_hash(EXTRA, HASHES[0]))


def test_a_short_inclusion_path_never_verifies():
    for size in range(2, N + 1):
        for index in range(size):
            path = TREE.inclusion_proof(index, size)
            for cut in range(len(path)):
                # whatever the root, a path that stops below it proves nothing
                partial = path[:cut]
                assert not verify_inclusion(HASHES[index], index, size, partial,
                                            _walk(HASHES[index], index, size, partial))


def _walk(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """The hash the verifier's walk reaches after `path` (the RFC's loop without its checks)."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r


def test_an_overlong_consistency_path_never_verifies():
    for second in range(2, N + 1):
        for first in range(1, second):
            path = TREE.consistency_proof(first, second)
            r1, r2 = REF_ROOTS[first], REF_ROOTS[second]
            assert not verify_consistency(first, second, node_hash(EXTRA, r1),
                                          node_hash(EXTRA, r2), [*path, EXTRA]), (first, second)
            assert not verify_consistency(first, second, r1, node_hash(EXTRA, r2),
                                          [*path, EXTRA]), (first, second)


def test_a_larger_first_tree_is_never_consistent_with_a_smaller_second():
    # With first > second the walk would start above the second tree's last leaf; this path
    # claims the size-3 tree is an extension of... a size-2 tree built over it.
    r3 = REF_ROOTS[3]
    assert not verify_consistency(3, 2, r3, node_hash(r3, EXTRA), [r3, EXTRA])
    for first in range(2, 12):
        for second in range(1, first):
            path = TREE.consistency_proof(second, first)
            assert not verify_consistency(first, second, REF_ROOTS[first], REF_ROOTS[second],
                                          path)
            assert not verify_consistency(first, second, REF_ROOTS[second], REF_ROOTS[first],
                                          path)


def test_first_zero_is_consistent_only_from_the_empty_tree_with_an_empty_path():
    for second in range(0, 9):
        r2 = REF_ROOTS[second]
        assert verify_consistency(0, second, EMPTY_ROOT, r2, [])
        assert not verify_consistency(0, second, HASHES[0], r2, [])
        assert not verify_consistency(0, second, EMPTY_ROOT, r2, [r2])
        assert not verify_consistency(0, second, EMPTY_ROOT, r2, [EMPTY_ROOT])


def test_a_proof_for_another_size_does_not_verify_against_this_ones_roots():
    for second in range(3, 20):
        for first in range(1, second - 1):
            other = TREE.consistency_proof(first, second - 1)
            if other != TREE.consistency_proof(first, second):
                assert not verify_consistency(first, second, REF_ROOTS[first],
                                              REF_ROOTS[second], other), (first, second)
        for index in range(second - 1):
            other = TREE.inclusion_proof(index, second - 1)
            if other != TREE.inclusion_proof(index, second):
                assert not verify_inclusion(HASHES[index], index, second, other,
                                            REF_ROOTS[second]), (index, second)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 31, 32, 33, 64])
def test_inclusion_proofs_of_many_leaves_are_each_ones_proof(size):
    tree = MemoryTree(HASHES[:size])
    for first in range(size):
        indexes = list(range(first, min(first + 7, size)))
        assert inclusion_proofs(indexes, size, tree.levels) == [
            inclusion_proof(i, size, tree.read) for i in indexes]


def test_inclusion_proofs_refuse_an_index_outside_the_tree_or_a_node_missing():
    tree = MemoryTree(HASHES[:4])
    with pytest.raises(ValueError, match="leaf index 4 is not in a tree of size 4"):
        inclusion_proofs([2, 4], 4, tree.levels)
    with pytest.raises(LookupError, match="missing one a proof needs"):
        inclusion_proofs([2], 4, [dict(enumerate(tree.levels[0]))])
