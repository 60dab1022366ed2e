"""A breakout room's call (web/session-call.js): time from the host's "Pair everyone" to
both pages' peer connection ``connected`` and to the first video frame on both, the
signals it took, and the size of Chromium's offer (what the 16 KiB SDP limit must hold).
Runs the real server and headless Chromium (fake camera and microphone) inside a fresh
loopback-only network namespace (tests/media/netns.py), which it always removes.

    python bench/breakout_call.py [--rounds 5]      (as root: it makes the namespace)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import table, write_results  # noqa: E402
from tests.media import netns  # noqa: E402

STATE = """() => [...document.querySelectorAll('.call-peer')].map((t) => ({
  state: t.dataset.state || '', width: t.querySelector('video').videoWidth}))"""
OFFER = """async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  const pc = new RTCPeerConnection({iceServers: []});
  stream.getTracks().forEach((t) => pc.addTrack(t, stream));
  await pc.setLocalDescription(await pc.createOffer());
  while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 50));
  const size = pc.localDescription.sdp.length;
  pc.close(); stream.getTracks().forEach((t) => t.stop());
  return size;
}"""


async def until_called(pages: list[Any], started: float) -> tuple[float, float]:
    """Seconds from ``started`` until every page is connected, and until every page has
    a video frame from its partner."""
    connected = framed = 0.0
    for _ in range(3000):
        states = [await page.evaluate(STATE) for page in pages]
        now = time.perf_counter() - started
        if not connected and all(s and all(p["state"] == "connected" for p in s)
                                 for s in states):
            connected = now
        if all(s and all(p["width"] > 0 for p in s) for s in states):
            framed = now
            if connected:
                return connected, framed
        await asyncio.sleep(0.02)
    raise RuntimeError("the call did not connect within a minute")


async def inside(rounds: int) -> list[dict[str, Any]]:
    from playwright.async_api import async_playwright, expect

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.session_ui import host_in_room, join_session, member_in_room, open_session
    from tests.conftest import make_settings, running_server
    from tests.media.conftest import WEBRTC_ARGS

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), presence_grace_ms=60_000)
        async with running_server(settings) as server, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                       args=CHROMIUM_ARGS + WEBRTC_ARGS)

            async def context(**kwargs: Any) -> Any:
                return await browser.new_context(**kwargs)

            host = await host_in_room(context, server)
            members = [await member_in_room(context, server, name)
                       for name in ("Bob Member", "Cara Member")]
            await open_session(host)
            for page in members:
                await join_session(page)
            await host.get_by_role("button", name="Start session").click()
            await expect(host.locator("#attendee-list li")).to_have_count(3)
            for page in members:  # joined once: every later room's call starts by itself
                await page.evaluate("localStorage.setItem('practica.breakout-call', 'yes')")
            offer_chars = await members[0].evaluate(OFFER)
            relayer = server.practica.relayer
            for n in range(1, rounds + 1):
                before = relayer.delivered
                started = time.perf_counter()
                await host.get_by_role("button", name="Pair everyone").click()
                connected, framed = await until_called(members, started)
                await asyncio.sleep(1)  # late candidates and media states
                rows.append({"round": n, "connected_ms": round(connected * 1000),
                             "first_frame_ms": round(framed * 1000),
                             "signals": relayer.delivered - before,
                             "offer_chars": offer_chars})
                print(rows[-1], flush=True)
                await host.get_by_role("button", name="End pair-ups now").click()
                for page in members:
                    await expect(page.locator("#breakout-call")).to_have_count(0)
            await browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        rows = asyncio.run(inside(args.rounds))
        print(table(rows, list(rows[0])))
        medians = {k: statistics.median(r[k] for r in rows)
                   for k in ("connected_ms", "first_frame_ms", "signals")}
        print(f"median of {len(rows)}: connected {medians['connected_ms']:.0f} ms, first "
              f"frame {medians['first_frame_ms']:.0f} ms after the host's click, "
              f"{medians['signals']:.0f} signals; Chromium's offer {rows[0]['offer_chars']} "
              "chars")
        print(write_results("breakout_call", {"rounds": args.rounds}, rows))
        return
    reason = netns.unavailable_reason()
    if reason:
        raise SystemExit(f"cannot make a network namespace: {reason}")
    name = netns.create()
    try:
        subprocess.run(["ip", "netns", "exec", name, sys.executable, __file__, "--inside",
                        "--rounds", str(args.rounds)], cwd=ROOT, check=True,
                       env={**os.environ, netns.ENV_NAME: name})
        netns.check_sealed(name)
        print("interfaces used:", netns.counters(name))
    finally:
        netns.remove(name)


if __name__ == "__main__":
    main()
