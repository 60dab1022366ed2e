"""HTTP for the shared repertoire: artefacts made from transcript excerpts, their
revisions (history and diffs), comments, endorsements and suggested revisions. Rows
of the one endpoint table (:mod:`server.http.api`)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from ..actions.artefact_guard import ScanReport
from ..actions.artefacts import Artefacts
from ..actions.collections import Collections, CollectionView, SaveCollection
from ..actions.erasure import Erased
from ..actions.repertoire_io import ImportReport, Transfer
from ..domain.artefact_events import ArtefactKind, Tag
from ..errors import NotFound
from ..projections.repertoire_query import RepertoireResults
from ..projections.search import MAX_LIMIT
from . import api_types as t
from . import artefact_types as a
from .endpoints import Call, Download, Endpoint

ZIP = "application/zip"
RevisionNumber = Annotated[int, msgspec.Meta(ge=1)]


def artefact_endpoints(artefacts: Artefacts) -> list[Endpoint]:
    collections = Collections(artefacts.store, artefacts.folds, artefacts.authority,
                              artefacts.sync) if artefacts is not None else None

    transfer = Transfer(artefacts, collections) if collections is not None else None

    async def export(call: Call) -> Download:
        assert transfer is not None
        community = call.param("community")
        return Download(await transfer.export(call.who, community), ZIP,
                        f"{community}-repertoire.zip")

    async def load(call: Call) -> ImportReport:
        assert transfer is not None
        return await transfer.load(call.who, call.param("community"), call.body)

    async def erase(call: Call) -> Erased:
        assert artefacts.erasure is not None
        try:
            seq = int(msgspec.convert(call.param("seq"), RevisionNumber, strict=False))
        except msgspec.ValidationError:
            raise NotFound(f"no line {call.param('seq')!r}") from None
        return await artefacts.erasure.erase(call.who, call.param("session"), seq)

    async def all_collections(call: Call) -> list[CollectionView]:
        assert collections is not None
        return await collections.all(call.who, call.param("community"))

    async def one_collection(call: Call) -> CollectionView:
        assert collections is not None
        return await collections.one(call.who, call.param("community"),
                                     call.param("collection"))

    async def save_collection(call: Call) -> CollectionView | None:
        assert collections is not None
        return await collections.save(call.who, call.param("community"),
                                      call.param("collection"), call.body)

    async def find(call: Call) -> RepertoireResults:
        assert artefacts.search is not None
        return await artefacts.search.search(
            call.who, call.param("community"), call.query("q", t.SearchText, ""),
            call.query("limit", t.SearchLimit, 20))

    async def scan(call: Call) -> ScanReport:
        return await artefacts.scan(call.who, call.param("community"), call.body)

    async def get_review(call: Call) -> a.ReviewSetting:
        return artefacts.review_setting(call.who, call.param("community"))

    async def set_review(call: Call) -> a.ReviewSetting:
        return await artefacts.set_review(call.who, call.param("community"),
                                          call.body.required)

    async def create(call: Call) -> a.ArtefactPage:
        return await artefacts.create(call.who, call.param("community"), call.body)

    async def listing(call: Call) -> list[a.ArtefactSummary]:
        return await artefacts.listing(call.who, call.param("community"),
                                       call.query("kind", ArtefactKind, None),
                                       call.query("tag", Tag, None))

    async def get(call: Call) -> a.ArtefactPage:
        return await artefacts.page(call.who, call.param("artefact"))

    async def revise(call: Call) -> a.ArtefactPage:
        return await artefacts.revise(call.who, call.param("artefact"), call.body)

    async def history(call: Call) -> a.History:
        return await artefacts.history(call.who, call.param("artefact"))

    async def diff(call: Call) -> a.RevisionDiff:
        return await artefacts.diff(call.who, call.param("artefact"),
                                    call.query("from", RevisionNumber, None),
                                    call.query("to", RevisionNumber, None))

    async def comment(call: Call) -> a.ArtefactPage:
        return await artefacts.comment(call.who, call.param("artefact"), call.body.text)

    async def endorse(call: Call) -> a.ArtefactPage:
        return await artefacts.endorse(call.who, call.param("artefact"), True)

    async def unendorse(call: Call) -> a.ArtefactPage:
        return await artefacts.endorse(call.who, call.param("artefact"), False)

    async def suggest(call: Call) -> a.ArtefactPage:
        return await artefacts.suggest(call.who, call.param("artefact"), call.body)

    def number(call: Call) -> int:
        try:
            return int(msgspec.convert(call.param("suggestion"), RevisionNumber,
                                       strict=False))
        except msgspec.ValidationError:
            raise NotFound(f"no suggestion {call.param('suggestion')!r}") from None

    async def accept(call: Call) -> a.ArtefactPage:
        return await artefacts.accept(call.who, call.param("artefact"), number(call),
                                      call.body)

    async def decline(call: Call) -> a.ArtefactPage:
        return await artefacts.decline(call.who, call.param("artefact"), number(call),
                                       call.body.reason)

    c, one = "/api/communities/{community}/artefacts", "/api/artefacts/{artefact}"
    reading = "Reading needs `read_repertoire` in the artefact's community"
    return [
        Endpoint("POST", c, "Make an artefact (revision 1), quoting transcript ranges of "
                 "this community's sessions you may read. A range from another community, "
                 "an empty or inverted range, or one outside the session is refused and "
                 "nothing is saved", create, a.NewArtefact, a.ArtefactPage, 201),
        Endpoint("GET", c, "The community's artefacts, newest change first; of one kind "
                 "and with one tag if asked", listing, reply=list[a.ArtefactSummary],
                 query=(("kind", ArtefactKind, "only artefacts of this kind"),
                        ("tag", Tag, "only artefacts with this tag"))),
        Endpoint("GET", "/api/communities/{community}/repertoire/search", "Search the "
                 "artefacts and the session transcripts you may read: title matches first, "
                 "then best match first. Words must all match; \"quoted phrases\" and "
                 "-excluded words work; anything else is a word to find, never syntax",
                 find, reply=RepertoireResults, query=(
                     ("q", t.SearchText, "What to find (1 to 200 characters)"),
                     ("limit", t.SearchLimit, f"1 to {MAX_LIMIT} (default 20)"))),
        Endpoint("POST", "/api/communities/{community}/repertoire/scan", "What the "
                 "confidential-details guard finds in an artefact before it is published "
                 "(its title, markdown and quoted lines): each finding's kind, span and "
                 "key to confirm. Nothing is saved", scan, a.NewArtefact, ScanReport),
        Endpoint("GET", "/api/communities/{community}/repertoire/review", "Whether the "
                 "confidential-details review is mandatory in the community", get_review,
                 reply=a.ReviewSetting),
        Endpoint("PUT", "/api/communities/{community}/repertoire/review", "Make the "
                 "confidential-details review mandatory (publishing refused until each "
                 "finding is redacted or confirmed) or advice (owners: `edit_community`)",
                 set_review, a.ReviewSetting, a.ReviewSetting),
        Endpoint("GET", "/api/communities/{community}/collections", "The repertoire's "
                 "collections: ordered reading lists (\"Start here\")", all_collections,
                 reply=list[CollectionView]),
        Endpoint("GET", "/api/communities/{community}/collections/{collection}", "One "
                 "collection, its artefacts in reading order", one_collection,
                 reply=CollectionView, refusals=(404,)),
        Endpoint("PUT", "/api/communities/{community}/collections/{collection}", "Save a "
                 "collection (conveners: `curate_repertoire`); no artefacts removes it "
                 "(the reply is then null). Each artefact must be the community's",
                 save_collection, SaveCollection, CollectionView | None, refusals=(404,)),
        Endpoint("GET", "/api/communities/{community}/repertoire/export", "The whole "
                 "repertoire as a zip of markdown files with front matter "
                 "(`artefacts/<kind>/<id>.md`, `collections/<id>.md`); quotes as they read "
                 "now", export, reply=bytes, produces=ZIP),
        Endpoint("POST", "/api/communities/{community}/repertoire/import", "Import a zip "
                 "made by the export (conveners). A broken file refuses it all, naming the "
                 "file; otherwise each artefact is made (or skipped, with its reason)",
                 load, reply=ImportReport, status=201, raw_body="application/octet-stream"),
        Endpoint("POST", "/api/sessions/{session}/lines/{seq}/erase", "Erase words from "
                 "a session's transcript for privacy: your own (chat, notes, captions, "
                 "questions with their edits, anonymous ones included, case prompts, "
                 "broadcasts, takeaways), or anyone's as an owner (`erase_words`). The "
                 "body goes, its hash stays (the chain still verifies); the session's "
                 "stream gets a `words_erased` event, so open pages and every process "
                 "forget the words; search, exports and artefacts' quotes no longer show "
                 "it. A line erased already answers `seqs` []", erase, reply=Erased,
                 refusals=(404,)),
        Endpoint("GET", one, "An artefact as it reads now, with its quotes (an erased line "
                 "reads `erased`) and their links back to the transcript. " + reading,
                 get, reply=a.ArtefactPage, refusals=(404,)),
        Endpoint("POST", one + "/revisions", "Revise it (its authors, or a convener): a new "
                 "revision; nothing is overwritten. `base_revision` older than the latest "
                 "is a conflict", revise, a.ReviseArtefact, a.ArtefactPage, 201,
                 refusals=(404,)),
        Endpoint("GET", one + "/revisions", "Every revision, first first. " + reading,
                 history, reply=a.History, refusals=(404,)),
        Endpoint("GET", one + "/diff", "A unified diff between two revisions (default: the "
                 "latest and the one before). " + reading, diff, reply=a.RevisionDiff,
                 refusals=(404,),
                 query=(("from", RevisionNumber, "the older revision"),
                        ("to", RevisionNumber, "the newer revision"))),
        Endpoint("POST", one + "/comments", "Comment on it", comment, a.NewComment,
                 a.ArtefactPage, 201, refusals=(404,)),
        Endpoint("PUT", one + "/endorsement", "Endorse it (\"this helped me\"); again does "
                 "nothing", endorse, reply=a.ArtefactPage, refusals=(404,)),
        Endpoint("DELETE", one + "/endorsement", "Take your endorsement back", unendorse,
                 reply=a.ArtefactPage, refusals=(404,)),
        Endpoint("POST", one + "/suggestions", "Suggest a revision, with a reason and "
                 "sources; choose whether to be credited by name", suggest,
                 a.SuggestRevision, a.ArtefactPage, 201, refusals=(404,)),
        Endpoint("POST", one + "/suggestions/{suggestion}/accept", "Accept a suggestion "
                 "(its authors, or a convener): it becomes the next revision", accept,
                 a.Decision, a.ArtefactPage, refusals=(404,)),
        Endpoint("POST", one + "/suggestions/{suggestion}/decline", "Decline a suggestion "
                 "with a reason (its authors, or a convener)", decline, a.Decision,
                 a.ArtefactPage, refusals=(404,)),
    ]
