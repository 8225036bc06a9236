"""RFC 9162 (Certificate Transparency 2.0) Merkle tree maths: pure, no I/O.

The log stores the hash of every *perfect* subtree, named by `Node = (level, index)`: the
subtree of 2**level leaves covering leaves [index << level, (index + 1) << level). Level 0
holds the leaf hashes. A perfect node never changes once complete, so storage is
append-only; roots of any size and every proof are composed from O(log n) of them.

Storage is reached through a `NodeReader`, a batch read. Each operation below calls it at
most once (one database round trip), and only for nodes that exist in a tree of the size
it was given.

Hashing is RFC 9162 §2.1.1 with SHA-256: leaves are SHA-256(0x00 || leaf), interior nodes
SHA-256(0x01 || left || right) (the prefixes stop a leaf from passing for a node), and the
root of n leaves splits at the largest power of two smaller than n.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from hashlib import sha256

Node = tuple[int, int]
NodeReader = Callable[[Sequence[Node]], Mapping[Node, bytes]]

EMPTY_ROOT: bytes = sha256(b"").digest()

_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(leaf: bytes) -> bytes:
    return sha256(_LEAF + leaf).digest()


def hash_leaves(leaves: Sequence[bytes]) -> list[bytes]:
    """leaf_hash of each, in one comprehension (no call per leaf: `audit verify` hashes
    every entry)."""
    return [sha256(_LEAF + leaf).digest() for leaf in leaves]


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(_NODE + left + right).digest()


def _pairs(hashes: Sequence[bytes]) -> list[bytes]:
    """The parents of hashes[0:2], hashes[2:4], ...; an odd last one is left out."""
    # zip over one iterator pairs neighbours without index arithmetic: the fastest loop here.
    it = iter(hashes)
    return [sha256(_NODE + left + right).digest() for left, right in zip(it, it, strict=False)]


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes (RFC 9162 §2.1.1), level by level.

    Carrying an odd last node up unchanged gives exactly the RFC's split: the largest
    power of two smaller than n goes left, recursively.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        carry = level[-1] if len(level) & 1 else None
        level = _pairs(level)
        if carry is not None:
            level.append(carry)
    return level[0]


# -- shapes: which perfect nodes make up a range --------------------------------------------


def _check_size(size: int, name: str = "size") -> None:
    if not isinstance(size, int) or size < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {size!r}")


def _decompose(start: int, end: int) -> list[Node]:
    """The perfect nodes of MTH(D[start:end]), largest (leftmost) first.

    `start` must be aligned to the largest of them, which holds wherever the RFC's
    recursion asks for such a range: it is always the right part after a power-of-two split.
    """
    nodes = []
    offset = start
    length = end - start
    for level in range(length.bit_length() - 1, -1, -1):
        if length >> level & 1:
            if offset & ((1 << level) - 1):
                raise AssertionError(f"range [{start}, {end}) is not aligned")  # a bug, not input
            nodes.append((level, offset >> level))
            offset += 1 << level
    return nodes


def _compose(nodes: Sequence[Node], hashes: Mapping[Node, bytes]) -> bytes:
    """MTH of a range from its decomposition: fold from the right, smallest subtree first."""
    result = hashes[nodes[-1]]
    for node in reversed(nodes[:-1]):
        result = sha256(_NODE + hashes[node] + result).digest()
    return result


def _read(read: NodeReader, nodes: Sequence[Node]) -> Mapping[Node, bytes]:
    """One batch read; a node storage should have but does not is a broken store, not bad input."""
    if not nodes:
        return {}
    found = read(nodes)
    missing = [node for node in nodes if node not in found]
    if missing:
        raise LookupError(f"the Merkle node store is missing {len(missing)} node(s), e.g. "
                          f"{missing[:3]}")
    return found


# -- appending -------------------------------------------------------------------------------


def _border_needed(old_size: int, new_size: int) -> list[Node]:
    """The old tree's right-border nodes that get a new parent when it grows to new_size."""
    needed = []
    level = 0
    start, end = old_size, new_size
    while end >> 1 > start >> 1:  # some node completes on the next level up
        if start & 1:
            needed.append((level, start - 1))
        level += 1
        start, end = start >> 1, end >> 1
    return needed


def _grow(old_size: int, new_leaf_hashes: Sequence[bytes],
          border: Mapping[Node, bytes]) -> list[tuple[int, list[bytes]]]:
    """Per level, (first index, hashes) of the perfect nodes completed by the new leaves."""
    start = old_size
    current = list(new_leaf_hashes)
    levels = [(start, current)]
    level = 0
    while current:
        if start & 1:  # the left sibling of our first node is an old one
            current = [border[(level, start - 1)], *current]
            start -= 1
        current = _pairs(current)
        start >>= 1
        level += 1
        if current:
            levels.append((start, current))
    return levels


def integrate(old_size: int, new_leaf_hashes: Sequence[bytes],
              read: NodeReader) -> dict[Node, bytes]:
    """Every perfect node (level 0 included) completed by appending new_leaf_hashes to a tree
    of old_size leaves: exactly what storage must insert. Reads only the right-border nodes
    of the old tree that get a new parent (at most one per set bit of old_size)."""
    _check_size(old_size, "old_size")
    new_size = old_size + len(new_leaf_hashes)
    border = _read(read, _border_needed(old_size, new_size))
    return {(level, start + i): digest
            for level, (start, hashes) in enumerate(_grow(old_size, new_leaf_hashes, border))
            for i, digest in enumerate(hashes)}


# -- roots and proofs from stored nodes ----------------------------------------------------


def root_at(size: int, read: NodeReader) -> bytes:
    """The root of the first `size` leaves, from its O(log n) perfect nodes."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    nodes = _decompose(0, size)
    return _compose(nodes, _read(read, nodes))


def _path_shape(first: int, level: int, size: int) -> tuple[list[Node], list[Node], list[Node]]:
    """The audit path of the perfect node at `level` whose first leaf is `first`, in a tree of
    `size` leaves, bottom-up, as (inner, right, left):

    - inner: its siblings below the level where its path meets the last leaf's path (the
      highest bit where `first` and `size - 1` differ, d - 1); all perfect;
    - right: at level d - 1, the sibling MTH(D[start:size]) holding the last leaf: the one
      range that may be ragged, as its perfect nodes (empty if the node holds the last leaf);
    - left: above, one perfect node for each set bit of `first`, the left parts of the
      RFC's largest-power-of-two splits.

    This is PATH / SUBPROOF of RFC 9162 unrolled bottom-up (the tests check it against the
    recursion for every index and size up to 64).
    """
    d = (first ^ (size - 1)).bit_length()
    inner = [(lv, (first >> lv) ^ 1) for lv in range(level, d - 1)]
    right = _decompose(((first >> (d - 1)) | 1) << (d - 1), size) if d > level else []
    left = [(lv, (first >> lv) - 1) for lv in range(max(d, level), first.bit_length())
            if first >> lv & 1]
    return inner, right, left


def _path_hashes(shape: tuple[list[Node], list[Node], list[Node]], extra: list[Node],
                 read: NodeReader) -> list[bytes]:
    inner, right, left = shape
    hashes = _read(read, [*extra, *inner, *right, *left])
    proof = [hashes[node] for node in extra + inner]
    if right:
        proof.append(_compose(right, hashes))
    proof += [hashes[node] for node in left]
    return proof


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1): the audit path, leaf's sibling first."""
    _check_size(size)
    _check_size(index, "index")
    if index >= size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    return _path_hashes(_path_shape(index, 0, size), [], read)


def inclusion_proofs(indexes: Sequence[int], size: int,
                     levels: Sequence[Mapping[int, bytes]]) -> list[list[bytes]]:
    """`inclusion_proof` of each index, from the nodes held a level at a time
    (`levels[l][i]` is node (l, i)): for many neighbouring leaves at once (archive
    bundles), each ragged right part composed once. _path_shape's three parts, unrolled."""
    _check_size(size)
    composed: dict[int, bytes] = {}
    proofs = []
    try:
        for index in indexes:
            if not 0 <= index < size:
                raise ValueError(f"leaf index {index} is not in a tree of size {size}")
            d = (index ^ (size - 1)).bit_length()
            proof = [levels[lv][(index >> lv) ^ 1] for lv in range(d - 1)]
            if d:  # the ragged part depends on d alone: above it, index and size - 1 agree
                right = composed.get(d)
                if right is None:
                    nodes = _decompose(((index >> (d - 1)) | 1) << (d - 1), size)
                    right = composed[d] = _compose(nodes, {
                        (lv, i): levels[lv][i] for lv, i in nodes})
                proof.append(right)
            proof += [levels[lv][(index >> lv) - 1] for lv in range(d, index.bit_length())
                      if index >> lv & 1]
            proofs.append(proof)
    except (KeyError, IndexError) as exc:
        raise LookupError(f"the Merkle nodes given are missing one a proof needs: {exc}") from exc
    return proofs


def consistency_proof(first: int, second: int, read: NodeReader) -> list[bytes]:
    """PROOF(first, D[second]) (RFC 9162 §2.1.4.1). Empty when first == second or first == 0:
    there is nothing to prove (as in certificate-transparency-go / trillian)."""
    _check_size(first, "first")
    _check_size(second, "second")
    if first > second:
        raise ValueError(f"first size {first} is larger than second size {second}")
    if first == 0 or first == second:
        return []
    # The old tree's last perfect node: the proof is its audit path in the new tree, preceded
    # by the node itself unless it is the whole old tree (a power of two), whose root the
    # verifier already holds.
    level = (first & -first).bit_length() - 1
    last = (level, (first >> level) - 1)
    extra = [last] if first & (first - 1) else []
    return _path_hashes(_path_shape(first - (1 << level), level, second), extra, read)


# -- verification (what a client does; RFC 9162 §2.1.3.2 and §2.1.4.2 step by step) ----------


def verify_inclusion(leaf_hash: bytes, index: int, size: int, path: Sequence[bytes],
                     root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `path` lead from leaf_hash at `index` to `root` of a tree of
    `size` leaves? fn walks the leaf's position up, sn the last leaf's."""
    if index < 0 or index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(_NODE + p + r).digest()
            while not fn & 1 and fn != 0:  # a right edge with no sibling: skip its levels
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(_NODE + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       path: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2 for 0 < first < second. Outside it, as trillian: equal sizes are
    consistent iff the roots are equal and the path is empty; the empty tree (whose root
    must be EMPTY_ROOT) is consistent with every tree, with an empty path."""
    if first < 0 or first > second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path and first_root == EMPTY_ROOT
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = sha256(_NODE + c + fr).digest()
            sr = sha256(_NODE + c + sr).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha256(_NODE + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# -- in memory -------------------------------------------------------------------------------


class MemoryTree:
    """Perfect nodes in memory, one list per level (levels[l][i] is node (l, i)): used by the
    CLI verifier, the tests and the benchmarks."""

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        if leaf_hashes:
            self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        levels = self.levels
        old_size = self.size
        needed = _border_needed(old_size, old_size + len(leaf_hashes))
        grown = _grow(old_size, leaf_hashes, {(lv, i): levels[lv][i] for lv, i in needed})
        for level, (_start, hashes) in enumerate(grown):
            if level == len(levels):
                levels.append([])
            levels[level].extend(hashes)

    def read(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        levels = self.levels
        try:
            if nodes and min(map(min, nodes)) < 0:
                raise IndexError
            return {node: levels[node[0]][node[1]] for node in nodes}
        except IndexError:
            raise LookupError(f"no such Merkle node among {list(nodes)[:5]} in a tree of size "
                              f"{self.size}") from None

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        _check_size(size)
        if size > self.size:
            raise ValueError(f"size {size} is beyond the tree's {self.size} leaves")
        return size

    def root(self, size: int | None = None) -> bytes:
        return root_at(self._size(size), self.read)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._size(size), self.read)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        return consistency_proof(first, self._size(second), self.read)
