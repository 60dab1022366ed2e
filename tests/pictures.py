"""Where a test's screenshot for the README goes: into ``web/`` (the README's pictures)
only when ``PRACTICA_README_SCREENSHOTS=1``, else into the ignored
``tests/browser/artifacts/``, so a test run never changes a file git tracks."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("PRACTICA_SCREENSHOTS", ROOT / "tests" / "browser" / "artifacts"))


def readme_picture(name: str) -> str:
    """The path to write the README's picture ``name`` to in this run."""
    if os.environ.get("PRACTICA_README_SCREENSHOTS") == "1":
        return str(ROOT / "web" / name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / name)
