"""Erasure across two server processes on PostgreSQL: words erased on one process
leave the other's fold without a restart, because the ``words_erased`` event reaches it
like any other (announced on the bus with Redis; found by the feed's poll of the store
without it), and its sockets hear the event."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import RunningServer, make_settings, running_server
from tests.people import Person
from tests.pg import postgres_schema
from tests.session_setup import attend, circle, member, op, open_session, until
from tests.test_outages import PrivateRedis
from tests.test_outages import private_redis as private_redis  # a fixture used here
from tests.test_session_scaleout import event_of, until_known, until_seq
from tests.test_session_scaleout import pair as two_processes

pair = two_processes  # the fixture: two processes sharing PostgreSQL and Redis


@pytest.fixture
async def pair_and_redis(tmp_path, private_redis
                         ) -> AsyncIterator[tuple[RunningServer, RunningServer, PrivateRedis]]:
    """Two processes sharing PostgreSQL and a private redis-server the test may kill."""
    await private_redis.ready()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    async with postgres_schema() as url:
        shared = {"database_url": url, "redis_url": private_redis.url,
                  "presence_grace_ms": 600_000}
        async with running_server(make_settings(tmp_path / "a", **shared)) as a:
            async with running_server(make_settings(tmp_path / "b", **shared)) as b:
                yield a, b, private_redis


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
    watcher = await on(b, c.host).connect(b.ws_url)  # a page open on B
    await watcher.identify(community=c.community)
    await attend(watcher, session)

    # An erasure on A (Ann's own words); B keeps running, never restarted.
    erased = await ann.call("POST", f"/api/sessions/{session}/lines/{said['seq']}/erase")
    assert erased.status_code == 200, erased.text
    assert "Pangolins" not in (await ann.call("GET", f"/api/sessions/{session}")).text
    heard = await watcher.wait_for(event_of("words_erased"), timeout=10)
    assert heard["body"]["seqs"] == erased.json()["seqs"] and heard["actor"] is None
    await until(lambda: "Pangolins" not in repr(b.practica.folds.sessions[session]),
                "B's fold forgot the words")
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
    for socket in (late, ann_ws, c.host_ws, watcher):
        await socket.close()


@pytest.mark.anyio
async def test_with_redis_down_the_other_process_learns_the_erasure_from_the_store(
        pair_and_redis):
    a, b, redis = pair_and_redis
    c = await circle(a, members=0)
    ann, ann_ws = await member(a, c.community, "Ann Asker", other=b)
    session = await open_session(c)
    await until_known(b, session)
    watcher = await on(b, c.host).connect(b.ws_url)  # a page open on B
    assert (await watcher.identify(community=c.community))["type"] == "ready"
    await attend(watcher, session)
    await attend(c.host_ws, session)
    await attend(ann_ws, session)
    assert (await op(c.host_ws, session, "start"))["type"] == "ack"
    said = await op(ann_ws, session, "ask", text="Pangolins are shy?")
    kept = await op(ann_ws, session, "ask", text="Tapirs too?")
    await until_seq(b, session, kept["seq"])
    assert sorted(b.practica.folds.session(session).questions) == [1, 2]

    redis.kill()  # no bus between them now: B hears of A's commits by polling the store
    await until(b.practica.redis_degraded, "B knows Redis is down")
    erased = await ann.call("POST", f"/api/sessions/{session}/lines/{said['seq']}/erase")
    assert erased.status_code == 200, erased.text
    heard = await watcher.wait_for(event_of("words_erased"), timeout=10)
    assert heard["body"]["questions"] == [1] and heard["actor"] is None
    await until(lambda: sorted(b.practica.folds.session(session).questions) == [2],
                "B's fold dropped the erased question")
    assert "Pangolins" not in repr(b.practica.folds.sessions[session])
    more = await op(watcher, session, "ask", text="Okapis next?")  # asked through B
    assert more["type"] == "ack", more
    await until_seq(a, session, more["seq"])
    assert sorted(a.practica.folds.session(session).questions) == [2, 3]
    for socket in (watcher, ann_ws, c.host_ws):
        await socket.close()
