"""The confidential-details guard on planted identifiers: names with titles, dates of
birth, phone numbers, record numbers, addresses (and what it leaves alone)."""

from __future__ import annotations

from server.confidential import key_of, scan

PLANTED = (
    "Dr. Margaret Hale saw Mrs Jones (DOB 14/03/1962) today; she was born 3 March 1962. "
    "Call 020 7946 0958 or (415) 555-0100, write to mj@example.org. MRN 00457812, NHS "
    "number 943 476 5919. She lives at 12 Harbour Street, Leeds LS1 4AB. Mr. O'Brien "
    "agreed.")


def test_planted_identifiers_are_found_with_their_spans() -> None:
    found = scan(PLANTED)
    got = [(f.kind, f.text) for f in found]
    assert got == [
        ("titled_name", "Dr. Margaret Hale"), ("titled_name", "Mrs Jones"),
        ("date_of_birth", "14/03/1962"), ("date_of_birth", "3 March 1962"),
        ("phone", "020 7946 0958"), ("phone", "(415) 555-0100"),
        ("email", "mj@example.org"), ("record_number", "MRN 00457812"),
        ("record_number", "NHS number 943 476 5919"),
        ("street_address", "12 Harbour Street"), ("postalcode", "LS1 4AB"),
        ("titled_name", "Mr. O'Brien")]
    for finding in found:
        assert PLANTED[finding.start:finding.end] == finding.text
        assert finding.key == key_of(finding.kind, finding.text)


def test_ordinary_practice_talk_has_no_findings() -> None:
    assert scan("We talked about boundaries, supervision and what to try next week. "
                "Session 3 ran 50 minutes; 12 people came.") == []
    assert scan("   ") == []


def test_what_it_cannot_catch() -> None:
    """Documented limits (README): an untitled name, a birth date in words."""
    assert scan("Margaret saw Jones, who was born the spring after the war.") == []
