"""Checkpoint notes and the witness protocol's bodies (C2SP tlog-checkpoint, tlog-witness),
laid out and read back exactly; every malformed layout refused."""

from __future__ import annotations

import base64

import pytest

from onceonly.audit.checkpoints import (
    MAX_PROOF,
    AddCheckpoint,
    CheckpointNote,
    MalformedCheckpoint,
    body_of,
    note,
    parse_note,
    parse_request,
    parse_size,
    request_body,
)

ROOT = bytes(range(32))
ROOT64 = base64.b64encode(ROOT).decode()
H1, H2 = bytes([1]) * 32, bytes([2]) * 32


def test_a_body_is_origin_size_and_base64_root_lines():
    assert body_of("example.com/log", 12, ROOT) == f"example.com/log\n12\n{ROOT64}\n".encode()


@pytest.mark.parametrize("origin", ["", "two\nlines", "a space"])
def test_an_origin_is_one_line_with_no_spaces(origin):
    with pytest.raises(MalformedCheckpoint):
        body_of(origin, 1, ROOT)


def test_a_note_is_the_body_an_empty_line_and_its_signature_lines():
    made = note("example.com/log", 3, ROOT, [("a", "sig1"), ("b", "sig2")])
    assert made == (f"example.com/log\n3\n{ROOT64}\n\n"
                    "\u2014 a sig1\n\u2014 b sig2\n").encode()
    read = parse_note(made.decode())
    assert read == CheckpointNote("example.com/log", 3, ROOT, (("a", "sig1"), ("b", "sig2")))
    assert read.body == body_of("example.com/log", 3, ROOT)
    assert read.signed_by("a") == ["sig1"] and read.signed_by("c") == []


@pytest.mark.parametrize("text", [
    f"o\n3\n{ROOT64}\n\n\u2014 a s",  # no final newline
    f"o\n3\n{ROOT64}\n\n",  # no signature
    f"o\n3\n{ROOT64}\nextra\n\u2014 a s\n",  # no empty line after the body
    f"o\n03\n{ROOT64}\n\n\u2014 a s\n",  # a leading zero
    f"o\n-3\n{ROOT64}\n\n\u2014 a s\n",
    f"o\n\u0663\n{ROOT64}\n\n\u2014 a s\n",  # a digit, but not ASCII
    "o\n3\nnot base64!\n\n\u2014 a s\n",
    f"o\n3\n{base64.b64encode(ROOT[:31]).decode()}\n\n\u2014 a s\n",  # not 32 bytes
    f"o\n3\n{ROOT64}\n\n- a s\n",  # not an em dash
    f"o\n3\n{ROOT64}\n\n\u2014 a\n",
    f"o\n3\n{ROOT64}\n\n\u2014  s\n",  # no name
    f"o\n3\n{ROOT64}\n\n\u2014 a \n",  # no signature
    f"o\n3\n{ROOT64}\n\n\u2014 a s t\n",
    f"o o\n3\n{ROOT64}\n\n\u2014 a s\n",
])
def test_a_note_that_is_not_laid_out_as_one_is_refused(text):
    with pytest.raises(MalformedCheckpoint):
        parse_note(text)


def test_size_zero_reads():
    assert parse_note(f"o\n0\n{ROOT64}\n\n\u2014 a s\n").tree_size == 0


def test_a_request_is_old_size_proof_lines_an_empty_line_and_the_checkpoint():
    checkpoint = note("o", 9, ROOT, [("o", "jws")])
    body = request_body(4, [H1, H2], checkpoint)
    assert body == (f"old 4\n{base64.b64encode(H1).decode()}\n"
                    f"{base64.b64encode(H2).decode()}\n\n").encode() + checkpoint
    assert parse_request(body) == AddCheckpoint(4, (H1, H2), parse_note(checkpoint.decode()))
    assert request_body(0, [], checkpoint) == b"old 0\n\n" + checkpoint
    assert parse_request(b"old 0\n\n" + checkpoint).proof == ()


@pytest.mark.parametrize("body", [
    b"\xff\xfe",
    b"old 1\n",
    b"new 1\n\n",
    b"old 01\n\n",
    b"old\n\n",
    b"old 1\nnot base64!\n\n",
])
def test_a_request_that_is_not_laid_out_as_one_is_refused(body):
    with pytest.raises(MalformedCheckpoint):
        parse_request(body + note("o", 9, ROOT, [("o", "jws")]) if body.endswith(b"\n\n")
                      else body)


def test_at_most_63_proof_lines():
    checkpoint = note("o", 9, ROOT, [("o", "jws")])
    assert len(parse_request(request_body(1, [H1] * MAX_PROOF, checkpoint)).proof) == 63
    with pytest.raises(MalformedCheckpoint, match="63"):
        parse_request(request_body(1, [H1] * (MAX_PROOF + 1), checkpoint))


def test_a_size_answer_is_a_decimal_and_a_newline():
    assert parse_size("20852163\n") == 20852163
    assert parse_size("0\n") == 0
    for text in ("12", "012\n", "x\n", "\n"):
        with pytest.raises(MalformedCheckpoint):
            parse_size(text)


def refusal(call, *args) -> str:
    with pytest.raises(MalformedCheckpoint) as caught:
        call(*args)
    return str(caught.value)


SIG = "\u2014 a s\n"


def test_each_refusal_says_what_is_wrong():
    assert refusal(body_of, "a b", 1, ROOT) == "an origin is one non-empty line with no spaces"
    assert refusal(parse_note, f"o\n3\n{ROOT64}\n\n\u2014 a s") == "a note ends with a newline"
    assert refusal(parse_note, f"o\n3\n{ROOT64}\n\n") == (
        "a checkpoint is origin, size and root lines, an empty line, then signature lines")
    assert refusal(parse_note, f"a b\n3\n{ROOT64}\n\n{SIG}") == (
        "an origin is one non-empty line with no spaces")
    assert refusal(parse_note, f"o\n03\n{ROOT64}\n\n{SIG}") == (
        "the tree size is not a decimal with no leading zeroes: '03'")
    assert refusal(parse_note, f"o\n3\nnot base64!\n\n{SIG}") == "the root hash is not base64"
    short = base64.b64encode(ROOT[:31]).decode()
    assert refusal(parse_note, f"o\n3\n{short}\n\n{SIG}") == "the root hash is not a SHA-256 hash"
    long_line = "\u2014 " + "x" * 100
    assert refusal(parse_note, f"o\n3\n{ROOT64}\n\n{long_line}\n") == (
        f"not a signature line: {long_line[:80]!r}")
    assert refusal(parse_request, b"\xff\n\n") == "the body is not UTF-8"
    assert refusal(parse_request, b"old 1\n") == (
        "no empty line between the proof and the checkpoint")
    checkpoint = note("o", 9, ROOT, [("o", "jws")])
    assert refusal(parse_request, b"new 1\n\n" + checkpoint) == (
        "the first line is not `old <size>`")
    assert refusal(parse_request, b"old 01\n\n" + checkpoint) == (
        "the old size is not a decimal with no leading zeroes: '01'")
    assert refusal(parse_request, b"old 1\n%%%%\n\n" + checkpoint) == (
        "a proof line is not base64")
    assert refusal(parse_size, "12") == "a size ends with a newline"
    assert refusal(parse_size, "012\n") == (
        "the size is not a decimal with no leading zeroes: '012'")


def test_base64_is_read_strictly_and_lines_split_on_single_spaces():
    loose = ROOT64[:10] + "!" + ROOT64[10:]  # decodes to the root if stray text is dropped
    assert refusal(parse_note, f"o\n3\n{loose}\n\n{SIG}") == "the root hash is not base64"
    assert refusal(parse_note, f"o\n3\n{ROOT64}\n\n\u2014 a  s\n").startswith(
        "not a signature line")
    assert refusal(parse_note, f"o\n3\n{ROOT64}\n\n\u2014\ta\ts\n").startswith(
        "not a signature line")
