"""Generated documents made the same whatever library version wrote them.

msgspec's schema output differs between versions in ways that mean nothing:
older versions keep a docstring's indentation in ``description`` (0.23
dedents), and put ``{"type": "null"}`` first in an ``anyOf`` (0.23 puts it
last). ``schemas/`` must not change with the installed version, so every
document goes through :func:`canonical`: each description is cleaned with
:func:`inspect.cleandoc` (idempotent, so raw and dedented text end the same)
and ``null`` goes last in every ``anyOf``.
"""

from __future__ import annotations

import inspect
from typing import TypeVar

T = TypeVar("T")

_NULL = {"type": "null"}


def canonical(node: T) -> T:
    """Return ``node`` in canonical form (changed in place), recursively."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = inspect.cleandoc(value)
                continue
            if key == "anyOf" and isinstance(value, list):
                value.sort(key=lambda item: item == _NULL)  # stable: only null moves
            canonical(value)
    elif isinstance(node, list):
        for item in node:
            canonical(item)
    return node
