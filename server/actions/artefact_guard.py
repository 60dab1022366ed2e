"""The confidential-details guard in the repertoire's pipeline: what an artefact, a
revision or a suggestion would publish (its title, markdown and the transcript lines it
quotes) is scanned (:mod:`server.confidential`) before anything is appended.

In a community whose review is mandatory (``repertoire_review_set``), publishing is
refused (``invalid``, naming what is left) until each finding is redacted (edited out
of the text) or confirmed (its ``key`` in ``confirm``); elsewhere the findings are
advice, and ``POST …/repertoire/scan`` shows them before publishing. The keys confirmed
are kept in the event (``confirmed``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

import msgspec

from ..confidential import Finding, scan
from ..domain.artefact_quote import Quote
from ..errors import InvalidCommand

Where = Literal["title", "body", "quote"]


class Found(msgspec.Struct, kw_only=True):
    """A finding and where: the title, the markdown, or a quoted transcript line
    (``session`` and ``seq``); ``start``..``end`` count in that text."""

    where: Where
    session: str | None = None
    seq: int | None = None
    finding: Finding


class ScanReport(msgspec.Struct, kw_only=True):
    findings: list[Found]
    review_required: bool
    """The community makes the review mandatory: each finding must be redacted or
    confirmed before publishing."""
    unconfirmed: list[str]
    """The keys of findings not confirmed yet (``confirm`` them, or edit them out)."""


def _scan_all(title: str, body: str, quotes: Sequence[Quote]) -> list[Found]:
    found = [Found(where="title", finding=f) for f in scan(title)]
    found += [Found(where="body", finding=f) for f in scan(body)]
    for shown in quotes:
        for line in shown.lines:
            found += [Found(where="quote", session=shown.session, seq=line.seq, finding=f)
                      for f in scan(line.text)]
    return found


async def review(title: str, body: str, quotes: Sequence[Quote], confirm: Sequence[str],
                 required: bool, *, always: bool = True) -> ScanReport:
    """Scan what would be published (in a thread: the detectors are CPU work). Without
    ``always``, only where the review is mandatory: elsewhere findings are advice, shown
    by the scan call before publishing, and publishing does not wait for them."""
    if not (always or required):
        return ScanReport(findings=[], review_required=False, unconfirmed=[])
    found = await asyncio.to_thread(_scan_all, title, body, quotes)
    confirmed = set(confirm)
    unconfirmed = list(dict.fromkeys(f.finding.key for f in found
                                     if f.finding.key not in confirmed))
    return ScanReport(findings=found, review_required=required, unconfirmed=unconfirmed)


def require_reviewed(report: ScanReport) -> list[str]:
    """The keys confirmed (to keep in the event); ``invalid`` when the review is
    mandatory and a finding is neither redacted nor confirmed (nothing is appended)."""
    if report.review_required and report.unconfirmed:
        shown = ", ".join(report.unconfirmed[:10])
        more = len(report.unconfirmed) - 10
        raise InvalidCommand(
            "this community reviews confidential details before publishing: redact or "
            f"confirm {shown}" + (f" and {more} more" if more > 0 else ""))
    keys = {f.finding.key for f in report.findings}
    return sorted(keys - set(report.unconfirmed))
