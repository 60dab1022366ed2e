"""The browser's estimate of the server's clock (web/clock.js, fed by web/socket.js):
within a second of joining, and again after each reconnect, it is within half a round
trip of the truth, even when hello's time is stale (the one-way delay) and the heartbeat
sent right after hello comes back late (a server under load, a big ready ahead of its
ack on a weak link). Deterministic: the page's timers and Date are Playwright's fake
clock (paused: it moves only when the test says), and its WebSocket is a scripted
server with known delays."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.ui import assert_clean, new_page

pytestmark = pytest.mark.anyio

AHEAD_MS = 7 * 60_000  # the server's clock is this far ahead of the browser's
LEG_MS = 10  # one-way network delay: a round trip of 20 ms, so within 10 ms of the truth
STALE_HELLO_MS = 400  # hello's time is this old when it arrives (queued at the server)
SLOW_ACK_MS = 1500  # how long the first heartbeat's answer waits at the server

# Run in the page: a scripted server behind a fake WebSocket, then a Gateway on it.
START = """async ({ ahead, leg, staleHello, slowAck }) => {
  const server = { ahead, beats: 0, readies: 0, socket: null };
  window.scripted = server;
  class ScriptedSocket extends EventTarget {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSING = 2;
    static CLOSED = 3;
    constructor() {
      super();
      this.readyState = 1;
      server.socket = this;
      server.beats = 0;
      const read = Date.now() + server.ahead; // stale by the time it arrives
      setTimeout(() => this.deliver({ type: "hello", server_time_ms: read,
        heartbeat_interval_ms: 15000, limits: {} }), staleHello);
    }
    deliver(frame) {
      if (this.readyState !== 1) return;
      this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(frame) }));
    }
    send(text) {
      const frame = JSON.parse(text);
      setTimeout(() => this.receive(frame), leg);
    }
    receive(frame) {
      if (frame.type === "identify" || frame.type === "resume") {
        server.readies += 1;
        setTimeout(() => this.deliver({ type: "ready", session: "s-1", syncs: [] }), leg);
      } else if (frame.type === "heartbeat") {
        server.beats += 1;
        const read = Date.now() + server.ahead;
        const wait = server.beats === 1 ? slowAck : leg; // the first: queued behind ready
        setTimeout(() => this.deliver({ type: "heartbeat_ack", server_time_ms: read }), wait);
      }
    }
    close() {
      this.readyState = 3;
    }
    drop(code) {
      this.readyState = 3;
      this.dispatchEvent(new CloseEvent("close", { code }));
    }
  }
  window.WebSocket = ScriptedSocket;
  const { Gateway } = await import('/static/socket.js');
  const gateway = new Gateway("ws://scripted/ws");
  gateway.addEventListener("ready", () => { server.readyAt = Date.now(); });
  window.gateway = gateway;
  gateway.start({ community: "guild" });
}"""

READ = """async () => {
  const { clockOffset } = await import('/static/clock.js');
  return { offset: clockOffset(), readies: window.scripted.readies,
           state: window.gateway.state };
}"""


async def test_the_clock_is_within_half_a_round_trip_a_second_after_joining(
        server: Any, new_context: Any) -> None:
    page = await new_page(new_context)
    await page.clock.install(time=1_800_000_000)
    await page.goto(f"{server.url}/static/clock.js")  # any page of the server's origin
    # from here the page's time moves only with run_for: a busy machine cannot stretch
    # a scripted round trip
    await page.clock.pause_at(1_800_000_001)
    await page.evaluate(START, {"ahead": AHEAD_MS, "leg": LEG_MS,
                                "staleHello": STALE_HELLO_MS, "slowAck": SLOW_ACK_MS})
    await page.clock.run_for(STALE_HELLO_MS + 2 * LEG_MS)  # hello, then ready
    joined: dict[str, Any] = await page.evaluate(READ)
    assert (joined["readies"], joined["state"]) == (1, "live")
    await page.clock.run_for(1000)
    first = await page.evaluate(READ)
    assert abs(first["offset"] - AHEAD_MS) <= LEG_MS, first
    # The slow answer to the first heartbeat comes at last: a longer round trip, ignored.
    await page.clock.run_for(SLOW_ACK_MS)
    assert abs((await page.evaluate(READ))["offset"] - AHEAD_MS) <= LEG_MS

    # Reconnected (the server closed: our role changed), to a server whose clock was
    # set 5 s forward meanwhile: the offset follows within a second, as on joining.
    await page.evaluate("""() => {
      window.scripted.ahead += 5000;
      window.scripted.socket.drop(4009);
    }""")
    await page.clock.run_for(STALE_HELLO_MS + 2 * LEG_MS + 1000)
    again = await page.evaluate(READ)
    assert (again["readies"], again["state"]) == (2, "live")
    assert abs(again["offset"] - (AHEAD_MS + 5000)) <= LEG_MS, again
    assert_clean(page)
