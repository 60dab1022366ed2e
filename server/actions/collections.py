"""Collections: ordered reading lists of a community's artefacts ("Start here").

A collection is saved whole (``collection_saved`` on the community's stream, with its
audit entry) by someone who curates the repertoire; an empty list removes it. Every
artefact listed must be one of the community's; reading one needs ``read_repertoire``
and shows its artefacts in order (an artefact removed since is left out).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from ..authority import Authority, Principal, audit_entry
from ..domain.artefact_events import ArtefactTitle, CollectionSaved
from ..domain.community import CommunityState
from ..domain.events import Id, audit_stream, community_stream
from ..domain.policy import Action
from ..errors import InvalidCommand, NotFound
from ..folds import Folds
from ..http import artefact_types as a
from ..http.api_types import Body
from ..pipeline import Sync, append_keyed, decided
from ..store import EventStore


class SaveCollection(Body, kw_only=True):
    title: ArtefactTitle
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    artefacts: Annotated[list[Id], msgspec.Meta(max_length=200)]
    """In reading order; empty removes the collection."""


class CollectionView(msgspec.Struct, kw_only=True):
    collection: str
    title: str
    description: str
    artefacts: list[a.ArtefactSummary]
    """In reading order."""


class Collections:
    def __init__(self, store: EventStore, folds: Folds, authority: Authority,
                 sync: Sync) -> None:
        self.store, self.folds, self.authority, self.sync = store, folds, authority, sync

    def _view(self, community: CommunityState, saved: CollectionSaved) -> CollectionView:
        listed = []
        for ident in saved.artefacts:
            state = self.folds.artefacts.get(ident)
            if state is None or not state.created or state.community != community.community:
                continue
            now = state.current
            listed.append(a.ArtefactSummary(
                artefact=ident, kind=now.kind, title=now.title, tags=list(now.tags),
                revision=now.revision, authors=state.authors,
                endorsements=len(state.endorsements), updated_ms=state.updated_ms))
        return CollectionView(collection=saved.collection, title=saved.title,
                              description=saved.description, artefacts=listed)

    async def all(self, principal: Principal, community: str) -> list[CollectionView]:
        state = await self.authority.check(principal, Action.READ_REPERTOIRE, community)
        return [self._view(state, saved) for saved in state.collections.values()]

    async def one(self, principal: Principal, community: str, collection: str
                  ) -> CollectionView:
        found = await self.saved(principal, community, collection)
        if found is None:
            raise NotFound(f"no collection {collection!r} in {community}")
        return found

    async def saved(self, principal: Principal, community: str, collection: str
                    ) -> CollectionView | None:
        """The collection as it reads now; None if there is none (removed)."""
        state = await self.authority.check(principal, Action.READ_REPERTOIRE, community)
        saved = state.collections.get(collection)
        return None if saved is None else self._view(state, saved)

    async def save(self, principal: Principal, community: str, collection: str,
                   body: SaveCollection) -> CollectionView | None:
        """Save (or, with no artefacts, remove) a collection; None when removed."""
        try:
            ident = msgspec.convert(collection, Id)
        except msgspec.ValidationError:
            raise InvalidCommand(f"a collection id is a-z, 0-9 and -: not {collection!r}"
                                 ) from None

        async def attempt() -> CollectionView | None:
            state = await self.authority.check(principal, Action.CURATE_REPERTOIRE,
                                               community)
            listed = list(dict.fromkeys(body.artefacts))
            for artefact in listed:
                found = self.folds.artefacts.get(artefact)
                if found is None or not found.created or found.community != community:
                    raise InvalidCommand(f"no artefact {artefact!r} in {community}")
            if not listed and ident not in state.collections:
                raise NotFound(f"no collection {ident!r} in {community}")
            saved = CollectionSaved(collection=ident, title=" ".join(body.title.split()),
                                    description=body.description.strip(), artefacts=listed)
            if not saved.title:
                raise InvalidCommand("a collection needs a title")
            entry = audit_entry(Action.CURATE_REPERTOIRE.value, target=ident,
                                detail=f"collection of {len(listed)} artefacts")
            await append_keyed(self.store, [
                (community_stream(community), [saved], state.seq),
                (audit_stream(community), [entry], None)], principal.member)
            return self._view(state, saved) if listed else None

        return await decided(attempt, self.sync)
