"""Janus with one presenter and N viewer pages: its CPU and bandwidth, and the time from
"on stage" to the first frame at a viewer.

Runs (as root) inside a fresh loopback-only network namespace (tests/media/netns.py),
like the media tests: Janus with the repository's config, the real Practica server on
SQLite, and headless Chromium with a fake camera (640x480) and microphone. For each N:
the host puts the presenter on stage (t0), the presenter presses "Start my video" as soon
as it shows, and each viewer's first decoded frame is timed; then, with everyone
receiving, Janus's CPU (utime+stime from /proc) and the bytes it took in (the presenter's
bytesSent) and sent out (the viewers' bytesReceived, from getStats) over ``--seconds``.

    python bench/media.py [--viewers 1,3,6] [--seconds 10]
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

from bench.common import cpu_seconds, rss_bytes, table, write_results  # noqa: E402
from tests.media import janus_proc, netns  # noqa: E402

FIRST_FRAME = """() => { const v = document.querySelector("#media-videos video");
  return Boolean(v && v.videoWidth > 0); }"""
BYTES = """async (way) => { let n = 0;
  for (const pc of window.practicaMedia.peerConnections()) {
    (await pc.getStats()).forEach((r) => {
      if (way === "in" && r.type === "inbound-rtp") n += r.bytesReceived || 0;
      if (way === "out" && r.type === "outbound-rtp") n += r.bytesSent || 0; });
  }
  return n; }"""


async def one_run(viewers: int, seconds: float, work: Path) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.session_ui import (
        host_in_room,
        join_session,
        member_in_room,
        open_session,
    )
    from tests.conftest import make_settings, running_server
    from tests.media.conftest import WEBRTC_ARGS

    log = (work / f"janus-{viewers}.log").open("w")
    janus = janus_proc.start(log)
    try:
        run = work / f"run-{viewers}"
        run.mkdir()
        async with running_server(make_settings(run, log_format="text")) as server, \
                async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                       args=CHROMIUM_ARGS + WEBRTC_ARGS)
            contexts: list[Any] = []

            async def new_context(**kwargs: Any) -> Any:
                contexts.append(await browser.new_context(**kwargs))
                return contexts[-1]

            host = await host_in_room(new_context, server)
            presenter = await member_in_room(new_context, server, "Pat Presenter")
            pages = [await member_in_room(new_context, server, f"Viewer {i}")
                     for i in range(1, viewers)]
            await open_session(host, "Bench night")
            for page in (presenter, *pages):
                await join_session(page)
            watchers = [host, *pages]
            await host.get_by_label("Put on stage").select_option(label="Pat Presenter")
            t0 = time.perf_counter()
            await host.get_by_role("button", name="Put on stage").click()
            await presenter.get_by_role("button", name="Start my video").click()
            clicked = time.perf_counter()

            async def first(page: Any) -> float:
                await page.wait_for_function(FIRST_FRAME, timeout=60_000, polling=20)
                return time.perf_counter()

            firsts = await asyncio.gather(*(first(p) for p in watchers))
            await asyncio.sleep(2)  # past the ramp-up
            cpu0, wall0 = cpu_seconds(janus.pid), time.perf_counter()
            in0 = await presenter.evaluate(BYTES, "out")
            out0 = sum([await p.evaluate(BYTES, "in") for p in watchers])
            await asyncio.sleep(seconds)
            cpu1, wall1 = cpu_seconds(janus.pid), time.perf_counter()
            in1 = await presenter.evaluate(BYTES, "out")
            out1 = sum([await p.evaluate(BYTES, "in") for p in watchers])
            rss = rss_bytes(janus.pid)
            for context in contexts:
                await context.close()
            await browser.close()
        span = wall1 - wall0
        stage_ms = [(f - t0) * 1000 for f in firsts]
        return {
            "viewers": len(watchers),
            "janus_cpu_pct": round(100 * (cpu1 - cpu0) / span, 1),
            "janus_rss_mb": round(rss / 2**20, 1),
            "in_kbit_s": round((in1 - in0) * 8 / span / 1000),
            "out_kbit_s": round((out1 - out0) * 8 / span / 1000),
            "stage_to_frame_ms_min": round(min(stage_ms)),
            "stage_to_frame_ms_median": round(statistics.median(stage_ms)),
            "stage_to_frame_ms_max": round(max(stage_ms)),
            "publish_click_to_frame_ms_median": round(
                statistics.median((f - clicked) * 1000 for f in firsts)),
        }
    finally:
        janus_proc.stop(janus)
        log.close()


async def inside(viewers: list[int], seconds: float) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="practica-bench-media-") as work:
        for n in viewers:
            rows.append(await one_run(n, seconds, Path(work)))
            print(table(rows[-1:], list(rows[-1])), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="1,3,6")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    viewers = [int(v) for v in args.viewers.split(",")]
    if netns.inside():
        rows = asyncio.run(inside(viewers, args.seconds))
        write_results("media", {"viewers": viewers, "seconds": args.seconds}, rows)
        print(table(rows, list(rows[0])))
        return
    reason = netns.unavailable_reason()
    if reason:
        raise SystemExit(f"bench/media.py needs a network namespace: {reason}")
    name = netns.create()
    try:
        code = subprocess.call(["ip", "netns", "exec", name, sys.executable, *sys.argv],
                               cwd=ROOT, env={**os.environ, netns.ENV_NAME: name})
        netns.check_sealed(name)
    finally:
        netns.remove(name)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
