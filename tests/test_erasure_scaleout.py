"""Erasure across two server processes on PostgreSQL + Redis: words erased on one
process leave the other's fold at once (the erasure is announced on the bus and the
other process folds the session again from the store), without a restart."""

from __future__ import annotations

import pytest

from server.actions.erasure import erased_elsewhere, erasure_message
from tests.people import Person
from tests.session_setup import attend, circle, member, op, open_session, until
from tests.test_session_scaleout import pair as two_processes
from tests.test_session_scaleout import until_known, until_seq

pair = two_processes  # the fixture: two processes sharing PostgreSQL and Redis


def on(server, person: Person) -> Person:
    """The same signed-in person, calling another process."""
    other = Person(server.url)
    other.cookies, other.csrf, other.me = dict(person.cookies), person.csrf, person.me
    return other


@pytest.mark.anyio
async def test_words_erased_on_one_process_are_gone_from_the_other(pair):
    a, b = pair
    c = await circle(a, members=0)
    ann, ann_ws = await member(a, c.community, "Ann Asker", ws_url=b.ws_url, other=b)
    session = await open_session(c)
    await until_known(b, session)
    await attend(c.host_ws, session)
    await attend(ann_ws, session)
    assert (await op(c.host_ws, session, "start"))["type"] == "ack"
    said = await op(ann_ws, session, "ask", text="Pangolins are shy?")
    assert said["type"] == "ack", said
    kept = await op(ann_ws, session, "ask", text="Tapirs too?")
    await until_seq(b, session, kept["seq"])
    ann_b = on(b, ann)
    live = await ann_b.call("GET", f"/api/sessions/{session}")
    assert "Pangolins" in live.text  # B's fold holds the words

    # An erasure on A (Ann's own words); B keeps running, never restarted.
    erased = await ann.call("POST", f"/api/sessions/{session}/lines/{said['seq']}/erase")
    assert erased.status_code == 200, erased.text
    assert "Pangolins" not in (await ann.call("GET", f"/api/sessions/{session}")).text
    await until(lambda: "Pangolins" not in repr(b.practica.folds.sessions[session]),
                "B folded the erased session again")
    live = await ann_b.call("GET", f"/api/sessions/{session}")
    assert live.status_code == 200 and "Pangolins" not in live.text
    assert "Tapirs too" in live.text  # only the erased line went
    text = (await ann_b.call("GET", f"/api/sessions/{session}/transcript.md")).text
    assert "Pangolins" not in text and "Tapirs too" in text
    late = await on(b, c.host).connect(b.ws_url)
    await late.identify(community=c.community)
    sync = await attend(late, session)
    assert "Pangolins" not in str(sync) and "Tapirs too" in str(sync)
    # New words after the erasure still reach B as before.
    more = await op(ann_ws, session, "ask", text="Okapis next?")
    await until_seq(b, session, more["seq"])
    assert "Okapis next" in (await ann_b.call("GET", f"/api/sessions/{session}")).text
    # Erasing again is a no-op (nothing to announce beyond it); a bad line is typed.
    again = await ann.call("POST", f"/api/sessions/{session}/lines/{said['seq']}/erase")
    assert (again.status_code, again.json()["seqs"]) == (200, [])
    bad = await ann_b.call("POST", f"/api/sessions/{session}/lines/9999/erase")
    assert (bad.status_code, bad.json()["code"]) == (404, "not_found")
    assert (await b.practica.store.verify()).ok
    for socket in (late, ann_ws, c.host_ws):
        await socket.close()


def test_an_erasure_message_is_heard_by_the_other_processes_only():
    message = erasure_message("s-1", "proc-a")
    assert erased_elsewhere(message, "proc-b") == "s-1"
    assert erased_elsewhere(message, "proc-a") is None  # the erasing process refolded
    for odd in ({}, {"erased": "s-1"}, {"erased": {"session": 7, "by": "proc-a"}},
                {"kick": {"session": "s-1"}}):
        assert erased_elsewhere(odd, "proc-b") is None, odd
