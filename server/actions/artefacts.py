"""The shared repertoire: every change to an artefact, through the one pipeline.

    authorize (``allowed()`` on the artefact's community: ``write_artefact``, or
    ``curate_repertoire`` to act on someone else's) → read what it cites (a session's
    stream, through the store, if the reader may read it) → decide (pure,
    :mod:`server.domain.artefact_decide`, on the fold) → ``append_all`` naming the seq
    decided on (+ the audit entry when a convener acts on another's artefact) → on a
    stale seq: decide again

Bad input (a range from another community, an empty or inverted range, one outside
the session) is a typed error and appends nothing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence

from ..authority import Authority, Principal, audit_entry
from ..confidential import warm
from ..domain.artefact import ArtefactState, diff
from ..domain.artefact_decide import (
    ArtefactActor,
    Draft,
    decide_accept,
    decide_comment,
    decide_create,
    decide_decline,
    decide_endorse,
    decide_revise,
    decide_suggest,
)
from ..domain.artefact_events import Excerpt, RepertoireReviewSet
from ..domain.artefact_quote import Quote, excerpt_of, quote
from ..domain.community import CommunityState
from ..domain.events import (
    Event,
    EventBody,
    artefact_stream,
    audit_stream,
    community_stream,
    session_stream,
)
from ..domain.policy import Action, Resource, allowed
from ..errors import InvalidCommand, NotFound
from ..folds import Folds
from ..http import artefact_types as a
from ..pipeline import Sync, append_keyed, decided
from ..projections.repertoire_query import RepertoireSearch
from ..store import EventStore, read_stream
from .artefact_guard import ScanReport, require_reviewed, review
from .erasure import Erasure

Decide = Callable[[ArtefactState, ArtefactActor, CommunityState],
                 Awaitable[list[EventBody]]]


class Artefacts:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 sync: Sync) -> None:
        self.store, self.folds, self.authority, self.sync = store, folds, authority, sync
        self._warming: asyncio.Future[None] | None = None
        self.erasure: Erasure | None = None
        """Erasing words from transcripts (set by the app)."""
        self.search: RepertoireSearch | None = None
        """Full-text search over the repertoire (set by the app)."""

    # --- reading -------------------------------------------------------------------

    async def _session_events(self, session: str) -> list[Event]:
        return await read_stream(self.store, session_stream(session))

    def _names(self, community: str) -> dict[str, str]:
        state = self.folds.communities.get(community)
        return {} if state is None else {m: i.name for m, i in state.members.items()}

    async def _readable(self, principal: Principal, artefact: str) -> ArtefactState:
        found = await self.authority.check_read(principal, artefact_stream(artefact))
        state: ArtefactState = self.folds.artefact(found.ref.ident)
        return state

    async def quotes(self, state: ArtefactState, reader: Principal | None = None
                     ) -> list[Quote]:
        """Each excerpt as it reads now, from its session's stream; with a ``reader``, each
        quote of a session they may read says the stream's head it was read at (where
        following it starts)."""
        shown, cache = [], dict[str, list[Event]]()
        names = self._names(state.community)
        for excerpt in state.current.excerpts:
            session = excerpt.stream.partition(":")[2]
            if session not in cache:
                cache[session] = await self._session_events(session)
            shown.append(quote(excerpt, cache[session], names))
            if reader is not None and cache[session] and self._follows(reader, excerpt.stream):
                shown[-1].head = cache[session][-1].seq
        return shown

    def _follows(self, reader: Principal, stream: str) -> bool:
        """May ``reader`` follow a quoted session (quietly decided: an artefact's reader
        who may not read the session is told nothing of it, and nothing is audited)?"""
        try:
            return bool(self.authority.readable(reader, stream).decision)
        except NotFound:
            return False

    async def page(self, principal: Principal, artefact: str) -> a.ArtefactPage:
        state = await self._readable(principal, artefact)
        return a.ArtefactPage(artefact=state.view(), quotes=await self.quotes(state, principal))

    async def history(self, principal: Principal, artefact: str) -> a.History:
        state = await self._readable(principal, artefact)
        return a.History(artefact=artefact, revisions=list(state.revisions))

    async def diff(self, principal: Principal, artefact: str, old: int | None,
                   new: int | None) -> a.RevisionDiff:
        state = await self._readable(principal, artefact)
        last = state.current.revision
        old, new = old if old is not None else max(1, last - 1), new or last
        before, after = state.revision(old), state.revision(new)
        if before is None or after is None:
            raise NotFound(f"artefact {artefact!r} has revisions 1..{last}")
        return a.RevisionDiff(artefact=artefact, from_revision=old, to_revision=new,
                              diff=diff(before, after))

    async def listing(self, principal: Principal, community: str, kind: str | None,
                      tag: str | None) -> list[a.ArtefactSummary]:
        """The community's artefacts (of one kind, with one tag), newest change first."""
        await self.authority.check(principal, Action.READ_REPERTOIRE, community)
        found = [s for s in self.folds.artefacts.values()
                 if s.created and s.community == community
                 and (kind is None or s.current.kind == kind)
                 and (tag is None or tag in s.current.tags)]
        found.sort(key=lambda s: (-s.updated_ms, s.artefact))
        return [a.ArtefactSummary(
            artefact=s.artefact, kind=s.current.kind, title=s.current.title,
            tags=list(s.current.tags), revision=s.current.revision, authors=s.authors,
            endorsements=len(s.endorsements), updated_ms=s.updated_ms) for s in found]

    # --- changing ------------------------------------------------------------------

    async def _excerpts(self, principal: Principal, community: str,
                        ranges: list[a.ExcerptRange]) -> tuple[list[Excerpt], list[Quote]]:
        """Each range as an excerpt of its session (and its quote, to review), if the
        principal may read that session and it is ``community``'s; refused (nothing
        saved) otherwise."""
        excerpts, quotes = [], []
        names = self._names(community)
        for wanted in ranges:
            stream = session_stream(wanted.session)
            found = await self.authority.check_read(principal, stream)
            events = await self._session_events(wanted.session)
            excerpt = excerpt_of(stream, events, wanted.from_seq, wanted.to_seq, names,
                                 same_community=found.community.community == community)
            excerpts.append(excerpt)
            quotes.append(quote(excerpt, events, names))
        return excerpts, quotes

    async def scan(self, principal: Principal, community: str, body: a.NewArtefact
                   ) -> ScanReport:
        """What the confidential-details guard finds in what would be published; nothing
        is saved."""
        state = await self.authority.check(principal, Action.WRITE_ARTEFACT, community)
        _, quotes = await self._excerpts(principal, community, list(body.excerpts))
        return await review(body.title, body.body, quotes, body.confirm,
                            state.review_confidential)

    async def set_review(self, principal: Principal, community: str, required: bool
                         ) -> a.ReviewSetting:
        """Make the confidential-details review mandatory (or advice) in ``community``."""

        async def attempt() -> a.ReviewSetting:
            state = await self.authority.check(principal, Action.EDIT_COMMUNITY, community)
            if required:  # the detectors load in the background, before the first check
                self.warm()
            if state.review_confidential != required:
                entry = audit_entry("set_repertoire_review", target=community,
                                    detail="mandatory" if required else "advice")
                await append_keyed(self.store, [
                    (community_stream(community), [RepertoireReviewSet(required=required)],
                     state.seq), (audit_stream(community), [entry], None)],
                    principal.member)
            return a.ReviewSetting(required=required)

        return await decided(attempt, self.sync)

    def warm(self) -> None:
        """Load the confidential-details detectors in a thread, once (seconds)."""
        if self._warming is None:
            self._warming = asyncio.get_running_loop().run_in_executor(None, warm)

    def review_setting(self, principal: Principal, community: str) -> a.ReviewSetting:
        state = self.folds.community(community)
        if self.authority.actor(principal, state).role is None:
            raise NotFound(f"no community {community!r}")
        return a.ReviewSetting(required=state.review_confidential)

    def _actor(self, principal: Principal, community: CommunityState) -> ArtefactActor:
        actor = self.authority.actor(principal, community)
        info = community.members.get(principal.member)
        return ArtefactActor(
            id=principal.member, name=info.name if info else principal.name,
            curates=bool(allowed(actor, Action.CURATE_REPERTOIRE,
                                 Resource(community=community.community))))

    async def create(self, principal: Principal, community: str, body: a.NewArtefact
                     ) -> a.ArtefactPage:
        ident = body.artefact or f"a-{secrets.token_hex(5)}"
        stream = artefact_stream(ident)

        async def attempt() -> a.ArtefactPage:
            state = await self.authority.check(principal, Action.WRITE_ARTEFACT, community)
            excerpts, quotes = await self._excerpts(principal, community,
                                                    list(body.excerpts))
            confirmed = require_reviewed(await review(
                body.title, body.body, quotes, body.confirm, state.review_confidential,
                always=False))
            held = self.folds.artefacts.get(ident) or ArtefactState(ident)
            bodies = decide_create(held, community, self._actor(principal, state),
                                   Draft(kind=body.kind, title=body.title, body=body.body,
                                         tags=list(body.tags)), excerpts, confirmed)
            await append_keyed(self.store, [(stream, bodies, 0)], principal.member)
            return await self.page(principal, ident)

        return await decided(attempt, self.sync)

    async def change(self, principal: Principal, artefact: str, decide: Decide,
                     audited: str | None = None) -> a.ArtefactPage:
        """Decide on the artefact's fold and append at the seq decided on. ``audited``:
        the audit log's name for it when a convener does it to another's artefact."""
        stream = artefact_stream(artefact)

        async def attempt() -> a.ArtefactPage:
            state = self.folds.artefact(artefact)
            expected = state.seq
            # Revising or deciding on someone else's artefact is curating it: a
            # privileged action (audited, refused or done).
            curating = audited and principal.member not in {p.member for p in state.authors}
            community = await self.authority.check(
                principal, Action.CURATE_REPERTOIRE if curating else Action.WRITE_ARTEFACT,
                state.community)
            actor = self._actor(principal, community)
            bodies = await decide(state, actor, community)
            if bodies:
                parts: list[tuple[str, list[EventBody], int | None]] = [
                    (stream, bodies, expected)]
                if audited and actor.id not in {p.member for p in state.authors}:
                    parts.append((audit_stream(state.community), [audit_entry(
                        Action.CURATE_REPERTOIRE.value, target=stream, detail=audited)],
                        None))
                await append_keyed(self.store, parts, principal.member)
            return await self.page(principal, artefact)

        return await decided(attempt, self.sync)

    async def _reviewed(self, state: ArtefactState, community: CommunityState, title: str,
                        body: str, quotes: Sequence[Quote], confirm: Sequence[str]
                        ) -> list[str]:
        """The guard, with what was confirmed in the artefact before counting as
        confirmed."""
        report = await review(title, body, quotes, [*confirm, *state.confirmed],
                              community.review_confidential, always=False)
        return require_reviewed(report)

    async def revise(self, principal: Principal, artefact: str, body: a.ReviseArtefact
                     ) -> a.ArtefactPage:
        state = self.folds.artefact(artefact)
        if body.excerpts is None:
            excerpts, quotes = None, await self.quotes(state)
        else:
            excerpts, quotes = await self._excerpts(principal, state.community,
                                                    list(body.excerpts))
        draft = Draft(kind=body.kind, title=body.title, body=body.body, tags=list(body.tags))

        async def decide(s: ArtefactState, actor: ArtefactActor, community: CommunityState
                         ) -> list[EventBody]:
            decide_revise(s, actor, draft, excerpts, body.note, body.base_revision, [])
            confirmed = await self._reviewed(s, community, body.title, body.body, quotes,
                                             body.confirm)
            return decide_revise(s, actor, draft, excerpts, body.note, body.base_revision,
                                 confirmed)

        return await self.change(principal, artefact, decide, audited="revised")

    async def comment(self, principal: Principal, artefact: str, text: str
                      ) -> a.ArtefactPage:
        async def decide(s: ArtefactState, actor: ArtefactActor, _: CommunityState
                         ) -> list[EventBody]:
            return decide_comment(s, actor, text)

        return await self.change(principal, artefact, decide)

    async def endorse(self, principal: Principal, artefact: str, on: bool
                      ) -> a.ArtefactPage:
        async def decide(s: ArtefactState, actor: ArtefactActor, _: CommunityState
                         ) -> list[EventBody]:
            return decide_endorse(s, actor, on)

        return await self.change(principal, artefact, decide)

    async def suggest(self, principal: Principal, artefact: str, body: a.SuggestRevision
                      ) -> a.ArtefactPage:
        async def decide(s: ArtefactState, actor: ArtefactActor, community: CommunityState
                         ) -> list[EventBody]:
            draft = Draft(kind=s.current.kind, title=body.title, body=body.body,
                          tags=list(body.tags))
            decide_suggest(s, actor, draft, body.reason, list(body.sources), body.credit)
            confirmed = await self._reviewed(s, community, body.title, body.body, [],
                                             body.confirm)
            return decide_suggest(s, actor, draft, body.reason, list(body.sources),
                                  body.credit, confirmed)

        return await self.change(principal, artefact, decide)

    async def accept(self, principal: Principal, artefact: str, number: int,
                     body: a.Decision) -> a.ArtefactPage:
        async def decide(s: ArtefactState, actor: ArtefactActor, community: CommunityState
                         ) -> list[EventBody]:
            decide_accept(s, actor, number, body.reason)  # refusals before the scan
            found = s.suggestions[number]
            confirmed = await self._reviewed(s, community, found.title, found.body, [],
                                             [*body.confirm, *found.confirmed])
            return decide_accept(s, actor, number, body.reason, confirmed)

        return await self.change(principal, artefact, decide,
                                 audited=f"accepted suggestion {number}")

    async def decline(self, principal: Principal, artefact: str, number: int, reason: str
                      ) -> a.ArtefactPage:
        if not reason.strip():
            raise InvalidCommand("say why the suggestion is declined")

        async def decide(s: ArtefactState, actor: ArtefactActor, _: CommunityState
                         ) -> list[EventBody]:
            return decide_decline(s, actor, number, reason)

        return await self.change(principal, artefact, decide,
                                 audited=f"declined suggestion {number}")
