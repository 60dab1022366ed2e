"""Editing and deleting a message, decided on the message as stored at a known head.

An edit and a deletion of the same message can race (two tabs, a moderator, two
processes). Each is decided on the message read from the store after noting the
room stream's head, and appended only if the stream is still at that head; if it
moved, the pipeline reads and decides again (an edit of a message deleted
meanwhile is then refused ``not_found``). Posts name no head: they commute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain import room as room_fold
from ..domain.events import room_stream
from ..domain.room import RoomState
from ..frames import command_digest
from ..protocol import Ack, Delete, Edit

if TYPE_CHECKING:
    from ..connection import Connection
    from ..pipeline import Parts
    from .rooms import Actions


async def _fresh(stream: str) -> None:
    """Nothing to catch up: every attempt reads the message from the store."""


async def changed(actions: Actions, conn: Connection, cmd: Edit | Delete, state: RoomState,
                  text: str | None, moderator: bool, audit: Parts) -> Ack:
    member = actions._member(conn)
    stream = room_stream(cmd.room)

    async def decide() -> Parts:
        head = await actions.store.head(stream)
        target = await actions.load_message(cmd.room, cmd.message)
        bodies = room_fold.decide_change(state, member.id, target, text, moderator=moderator)
        return [(stream, bodies, head), *audit]

    outcome = await actions.once.appended(member.id, cmd.ref, command_digest(cmd), decide,
                                          _fresh)
    return Ack(ref=cmd.ref or "", stream=outcome.stream, seq=outcome.seq)
