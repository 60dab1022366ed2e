"""The browser's artefact fold (web/folds/artefact.js) against the server's
(server/domain/artefact.py): the same recorded sequences, a snapshot at some seq and the
events after it (with duplicates of older ones), folded in Chromium and in Python."""

from __future__ import annotations

import pytest

from tests.artefact_sequences import artefact_sequence, client_fold, server_fold
from tests.browser.test_folds import FOLD_ALL, differences, folds_page
from tests.browser.ui import assert_clean

pytestmark = [pytest.mark.anyio, pytest.mark.browser]


async def test_the_browser_folds_artefacts_like_the_server(new_context, server):
    page = await folds_page(new_context, server)
    for seed in (7, 42, 2026):
        recorded = artefact_sequence(seed)
        whole = server_fold(recorded)
        total = len(recorded.events)
        points = sorted({1, 2, total // 3, total // 2, total - 1, total})
        cases = [recorded.case(at) for at in points]
        cases += [recorded.case(at, recorded.events[max(0, at - 3):at]) for at in points]
        results = await page.evaluate(FOLD_ALL, cases)
        for case, got in zip(cases, results, strict=True):
            assert client_fold(case) == whole, f"seed {seed}: python, snapshot at {case['seq']}"
            assert differences(whole, got) == [], f"seed {seed}: snapshot at {case['seq']}"
        assert whole["revision"] > 1 and whole["contributors"] and whole["comments"]
        assert {s["status"] for s in whole["suggestions"]} >= {"accepted", "declined"}
    assert_clean(page)
