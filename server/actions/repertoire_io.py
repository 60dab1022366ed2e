"""Exporting a community's repertoire as a zip of markdown files with front matter
(:mod:`server.domain.repertoire_files`), and importing one, so a community is never
locked in.

Export needs ``read_repertoire``; quotes are read as they are now (erased lines read
``erased``). Import needs ``curate_repertoire``: the whole file is read and every file
in it parsed before anything is made (a broken file refuses the import, naming it, and
makes nothing); then each artefact is made through the same pipeline as any other (its
excerpts kept where they cite a session of this community you may read, its id kept if
free), and each collection saved with the ids its artefacts got. What cannot be made is
skipped with its reason, in the report.

With an Idempotency-Key, each artefact and collection is made under a key of its own
(:func:`~server.pipeline.keyed_step`): a retry of an import whose process died midway
makes only what was not made yet, and answers the same report.
"""

from __future__ import annotations

import io
import zipfile

import msgspec

from ..authority import Principal
from ..domain.policy import Action
from ..domain.repertoire_files import (
    ImportedArtefact,
    ImportedCollection,
    artefact_file,
    collection_file,
    read_artefact,
    read_collection,
)
from ..errors import CommandError, InvalidCommand
from ..http import artefact_types as a
from ..pipeline import AlreadyApplied, keyed_step
from .artefacts import Artefacts
from .collections import Collections, SaveCollection

MAX_FILES = 500
MAX_UNPACKED = 4 * 1024 * 1024


class Skipped(msgspec.Struct, kw_only=True):
    path: str
    reason: str


class ImportReport(msgspec.Struct, kw_only=True):
    artefacts: dict[str, str]
    """Each file's artefact id as made (path -> id)."""
    collections: list[str]
    skipped: list[Skipped]
    excerpts_dropped: list[Skipped]
    """Excerpts not kept (a session that is not this community's, or not there)."""


class Transfer:
    def __init__(self, artefacts: Artefacts, collections: Collections) -> None:
        self.artefacts, self.collections = artefacts, collections

    async def export(self, principal: Principal, community: str) -> bytes:
        state = await self.artefacts.authority.check(principal, Action.READ_REPERTOIRE,
                                                     community)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for ident in sorted(self.artefacts.folds.artefacts):
                found = self.artefacts.folds.artefacts[ident]
                if not found.created or found.community != community:
                    continue
                path, text = artefact_file(found.view(), await self.artefacts.quotes(found))
                archive.writestr(path, text)
            for saved in state.collections.values():
                archive.writestr(*collection_file(saved))
        return out.getvalue()

    @staticmethod
    def _read(data: bytes) -> tuple[list[ImportedArtefact], list[ImportedCollection]]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise InvalidCommand("not a zip file") from None
        with archive:
            entries = [e for e in archive.infolist() if not e.is_dir()
                       and e.filename.endswith(".md")]
            if len(entries) > MAX_FILES:
                raise InvalidCommand(f"at most {MAX_FILES} files")
            if sum(e.file_size for e in entries) > MAX_UNPACKED:
                raise InvalidCommand(f"at most {MAX_UNPACKED} bytes unpacked")
            found, lists = [], []
            for entry in entries:
                try:
                    text = archive.read(entry).decode("utf-8")
                except (UnicodeDecodeError, zipfile.BadZipFile, ValueError):
                    raise InvalidCommand(f"{entry.filename}: not readable UTF-8") from None
                if entry.filename.startswith("artefacts/"):
                    found.append(read_artefact(entry.filename, text))
                elif entry.filename.startswith("collections/"):
                    lists.append(read_collection(entry.filename, text))
        return found, lists

    async def load(self, principal: Principal, community: str, data: bytes
                   ) -> ImportReport:
        await self.artefacts.authority.check(principal, Action.CURATE_REPERTOIRE, community)
        found, lists = self._read(data)
        report = ImportReport(artefacts={}, collections=[], skipped=[], excerpts_dropped=[])
        held = self.artefacts.folds.artefacts
        sessions = self.artefacts.folds.sessions
        for one in found:
            ranges = []
            for session, first, last in one.excerpts:
                there = sessions.get(session)
                if there is None or not there.opened or there.community != community:
                    report.excerpts_dropped.append(Skipped(
                        path=one.path, reason=f"session {session} is not in {community}"))
                    continue
                ranges.append({"session": session, "from_seq": first, "to_seq": last})
            ident = one.artefact if one.artefact and one.artefact not in held else None
            try:
                body = msgspec.convert({
                    "kind": one.kind, "title": one.title, "body": one.body,
                    "tags": one.tags, "excerpts": ranges, "artefact": ident},
                    a.NewArtefact)
                with keyed_step(one.path):
                    made = (await self.artefacts.create(principal, community, body)
                            ).artefact.artefact
            except AlreadyApplied as done:  # by this call, before its process died
                made = done.applied.stream.partition(":")[2]
            except msgspec.ValidationError as exc:
                report.skipped.append(Skipped(path=one.path, reason=str(exc)))
                continue
            except CommandError as exc:
                report.skipped.append(Skipped(path=one.path, reason=exc.message))
                continue
            report.artefacts[one.path] = made
            if one.artefact:
                report.artefacts.setdefault(one.artefact, made)
        for listed in lists:
            mapped = [report.artefacts[x] for x in listed.artefacts if x in report.artefacts]
            if not mapped:
                report.skipped.append(Skipped(path=listed.path, reason="none of its "
                                              "artefacts was imported"))
                continue
            try:
                with keyed_step(listed.path):
                    await self.collections.save(principal, community, listed.collection,
                                                SaveCollection(
                                                    title=listed.title,
                                                    description=listed.description,
                                                    artefacts=mapped))
            except AlreadyApplied:
                pass  # saved by this call before its process died
            except CommandError as exc:
                report.skipped.append(Skipped(path=listed.path, reason=exc.message))
                continue
            report.collections.append(listed.collection)
        report.artefacts = {k: v for k, v in report.artefacts.items() if k.endswith(".md")}
        return report
