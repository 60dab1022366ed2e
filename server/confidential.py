"""The confidential-details guard: finds identifying details of clients or patients in
text before it goes into the shared repertoire.

Built on scrubadub (its own detectors: e-mail addresses, phone numbers (UK and US
numbering plans, through Google's libphonenumber), dates of birth (a date near words
such as "born" or "DOB"), UK postcodes, National Insurance and tax reference numbers,
driving licence and vehicle numbers, credit card numbers, URLs, credentials, Twitter
handles) and three detectors of ours on scrubadub's regex detector: names after a
title (Dr, Mrs, Mr, Ms, Prof, Nurse...), record numbers (MRN, NHS, hospital, case or
record number followed by digits) and street addresses (a house number, then capitalised
words, then Street, Road, Avenue...). No model is loaded: everything runs from the
package and its rules.

It cannot find a name without a title ("Margaret saw Jones"), a detail written in
words ("born the spring after the war"), a rare condition or a small town that
identifies someone by itself, or anything in another language's formats; it may flag
a clinician's own title and name. A finding is for the author to redact or confirm,
never a guarantee.
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import Any

import msgspec

FINDING_KINDS = ("titled_name", "record_number", "street_address", "date_of_birth",
                 "phone", "email", "postalcode", "national_insurance_number",
                 "tax_reference_number", "drivers_licence", "vehicle_licence_plate",
                 "credit_card", "url", "credential", "twitter", "social_security_number")


class Finding(msgspec.Struct, kw_only=True):
    """One detail found: what kind, where (``start``..``end`` of the text scanned) and
    the words themselves; ``key`` is what confirming it (``confirm``) names."""

    kind: str
    start: int
    end: int
    text: str
    key: str


def key_of(kind: str, text: str) -> str:
    return f"{kind}:{' '.join(text.split())}"


_TITLES = r"(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Sister|Nurse|Sr|Rev)"
_NAME = r"[A-Z](?:[a-z]+|['\u2019][A-Z][a-z]+)(?:-[A-Z][a-z]+)?"
_STREET = (r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Close|Way|Court|Ct|Place|Pl"
           r"|Crescent|Terrace|Boulevard|Blvd|Gardens|Square|Hill|Grove|Row|Mews|Walk)")


_built: list[Any] = []
_building = threading.Lock()


def _scrubber() -> Any:
    """Built once per process, on first use (importing scrubadub takes seconds: it
    imports scikit-learn and NLTK): :func:`warm` does it ahead, in a thread."""
    with _building:
        if not _built:
            _built.append(_build())
        return _built[0]


def warm() -> None:
    """Load the detectors now (call it in a thread)."""
    _scrubber()


def _build() -> Any:
    import scrubadub
    from scrubadub.detectors import PhoneDetector, RegexDetector
    from scrubadub.filth import Filth

    class TitledNameFilth(Filth):
        type = "titled_name"

    class RecordNumberFilth(Filth):
        type = "record_number"

    class AddressFilth(Filth):
        type = "street_address"

    class TitledName(RegexDetector):
        name = "titled_name"
        filth_cls = TitledNameFilth
        regex = re.compile(rf"\b{_TITLES}\.?\s+{_NAME}(?:\s+{_NAME}){{0,2}}")

    class RecordNumber(RegexDetector):
        name = "record_number"
        filth_cls = RecordNumberFilth
        regex = re.compile(
            r"\b(?:MRN|NHS|CHI|hospital|patient|record|case|chart|medical record|file)"
            r"(?:\s+(?:no\.?|number|num|#|id))?\s*[:#]?\s*[A-Z]{0,3}[\d][\d -]{4,14}\d\b",
            re.IGNORECASE)

    class StreetAddress(RegexDetector):
        name = "street_address"
        filth_cls = AddressFilth
        regex = re.compile(rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){{1,3}}{_STREET}\b\.?")

    class UsPhone(PhoneDetector):
        name = "phone_us"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library's own deprecation notices
        scrubber = scrubadub.Scrubber(locale="en_GB")
        scrubber.add_detector(UsPhone(locale="en_US"), warn=False)
        for detector in ("date_of_birth", "social_security_number"):
            scrubber.add_detector(detector, warn=False)
        for custom in (TitledName, RecordNumber, StreetAddress):
            scrubber.add_detector(custom(locale="en_GB"), warn=False)
    return scrubber


def scan(text: str) -> list[Finding]:
    """The identifying details found in ``text``, in order, overlaps merged into the
    first kind found."""
    if not text.strip():
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = list(_scrubber().iter_filth(text, run_post_processors=False))
    out: list[Finding] = []
    for filth in found:
        for one in getattr(filth, "filths", None) or [filth]:
            kind = "phone" if one.type == "phone" else str(one.type)
            out.append(Finding(kind=kind, start=one.beg, end=one.end, text=one.text,
                               key=key_of(kind, one.text)))
    out.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for finding in out:
        if merged and finding.start < merged[-1].end:
            continue
        merged.append(finding)
    return merged
