"""The repertoire as a folder of markdown files with front matter, and back.

Each artefact is ``artefacts/<kind>/<id>.md``: front matter between ``---`` lines, then
its markdown exactly as written. Each collection is ``collections/<id>.md``. Front
matter values are JSON (which YAML reads as well), one ``key: value`` a line, so any
static-site tool or editor reads them and nothing needs a YAML library here. The quotes
an artefact cites are in its front matter as they read at export (an erased line reads
``erased``). Pure: no files, no zip (the edge packs them).
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from ..errors import InvalidCommand
from .artefact import ArtefactView
from .artefact_events import KINDS, CollectionSaved
from .artefact_quote import Quote

FENCE = "---"
_KEY = re.compile(r"[a-z_]+")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _front(fields: dict[str, Any], body: str) -> str:
    lines = [FENCE, *(f"{key}: {json.dumps(value, ensure_ascii=False)}"
                      for key, value in fields.items()), FENCE, ""]
    return "\n".join(lines) + body + ("\n" if body and not body.endswith("\n") else "")


def artefact_file(view: ArtefactView, quotes: list[Quote]) -> tuple[str, str]:
    """(path, text) of one artefact."""
    fields = {
        "artefact": view.artefact, "kind": view.kind, "title": view.title,
        "tags": view.tags, "revision": view.revision,
        "authors": [p.name for p in view.authors],
        "contributors": [p.name for p in view.contributors],
        "created_ms": view.created_ms, "updated_ms": view.updated_ms,
        "excerpts": [{"session": q.session, "from_seq": q.from_seq, "to_seq": q.to_seq,
                      "link": q.link, "lines": [
                          {"seq": line.seq, "who": line.who, "text": line.text}
                          for line in q.lines]} for q in quotes],
    }
    return f"artefacts/{view.kind}/{view.artefact}.md", _front(fields, view.body)


def collection_file(saved: CollectionSaved) -> tuple[str, str]:
    fields = {"collection": saved.collection, "title": saved.title,
              "artefacts": list(saved.artefacts)}
    return f"collections/{saved.collection}.md", _front(fields, saved.description)


def parse(path: str, text: str) -> tuple[dict[str, Any], str]:
    """A file's front matter and body; ``invalid`` naming the file and line."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise InvalidCommand(f"{path}: no front matter (the first line is not ---)")
    fields: dict[str, Any] = {}
    for number, line in enumerate(lines[1:], 2):
        if line.strip() == FENCE:
            return fields, "\n".join(lines[number:]).rstrip("\n")
        if not line.strip():
            continue
        key, sep, raw = line.partition(":")
        if not sep or not _KEY.fullmatch(key.strip()):
            raise InvalidCommand(f"{path} line {number}: not 'key: value'")
        try:
            fields[key.strip()] = json.loads(raw)
        except ValueError:
            fields[key.strip()] = raw.strip()  # a bare YAML string
    raise InvalidCommand(f"{path}: the front matter never ends (no closing ---)")


class ImportedArtefact(msgspec.Struct, kw_only=True):
    path: str
    artefact: str | None
    kind: str
    title: str
    body: str
    tags: list[str]
    excerpts: list[tuple[str, int, int]]
    """(session, from_seq, to_seq) of each quote it had."""


class ImportedCollection(msgspec.Struct, kw_only=True):
    path: str
    collection: str
    title: str
    description: str
    artefacts: list[str]


def read_artefact(path: str, text: str) -> ImportedArtefact:
    fields, body = parse(path, text)
    kind, title = fields.get("kind"), fields.get("title")
    if kind not in KINDS:
        raise InvalidCommand(f"{path}: kind must be one of {', '.join(KINDS)}")
    if not isinstance(title, str) or not title.strip():
        raise InvalidCommand(f"{path}: a title is needed")
    ident = fields.get("artefact")
    tags = fields.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidCommand(f"{path}: tags must be a list of words")
    excerpts = []
    for one in fields.get("excerpts") or []:
        try:
            excerpts.append((str(one["session"]), int(one["from_seq"]), int(one["to_seq"])))
        except (TypeError, KeyError, ValueError):
            raise InvalidCommand(f"{path}: an excerpt needs session, from_seq and "
                                 "to_seq") from None
    return ImportedArtefact(
        path=path, artefact=ident if isinstance(ident, str) and _ID.fullmatch(ident)
        else None, kind=str(kind), title=title, body=body, tags=tags, excerpts=excerpts)


def read_collection(path: str, text: str) -> ImportedCollection:
    fields, body = parse(path, text)
    ident, title = fields.get("collection"), fields.get("title")
    listed = fields.get("artefacts") or []
    if not isinstance(ident, str) or not _ID.fullmatch(ident):
        raise InvalidCommand(f"{path}: collection must be an id (a-z, 0-9, -)")
    if not isinstance(title, str) or not isinstance(listed, list):
        raise InvalidCommand(f"{path}: a collection needs a title and a list of artefacts")
    return ImportedCollection(path=path, collection=ident, title=title, description=body,
                              artefacts=[str(a) for a in listed])
