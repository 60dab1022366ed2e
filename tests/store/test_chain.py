import pytest

from server.store.chain import GENESIS, ChainBreak, body_digest, link_hash, verify_row

ARGS = (GENESIS, "room:a", 1, 1000, "m", "message_posted", body_digest(b"{}"))


def test_every_field_is_covered_by_the_hash():
    base = link_hash(*ARGS)
    for index, changed in [(0, b"\x01" * 32), (1, "room:b"), (2, 2), (3, 1001), (4, "n"),
                           (5, "message_edited"), (6, body_digest(b"[]"))]:
        args = list(ARGS)
        args[index] = changed
        assert link_hash(*args) != base, f"field {index} is not covered"
    assert link_hash(GENESIS, "room:a", 1, 1000, None, "t", b"") != link_hash(
        GENESIS, "room:a", 1, 1000, "", "t", b"x")


def test_verify_row_detects_gap_bad_digest_and_bad_hash():
    digest = body_digest(b"{}")
    good = link_hash(GENESIS, "s", 1, 5, "m", "t", digest)
    assert verify_row(GENESIS, 1, "s", 1, 5, "m", "t", b"{}", digest, good) == good
    assert verify_row(GENESIS, 1, "s", 1, 5, "m", "t", None, digest, good) == good  # erased
    with pytest.raises(ChainBreak, match="gap"):
        verify_row(GENESIS, 2, "s", 1, 5, "m", "t", b"{}", digest, good)
    with pytest.raises(ChainBreak, match="digest"):
        verify_row(GENESIS, 1, "s", 1, 5, "m", "t", b"{ }", digest, good)
    with pytest.raises(ChainBreak, match="chain"):
        verify_row(GENESIS, 1, "s", 1, 6, "m", "t", b"{}", digest, good)
