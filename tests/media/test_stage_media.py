"""Room-wide video through Janus, in headless Chromium with fake camera/microphone, inside
the loopback-only namespace: the presenter on stage publishes, four attendees receive it
(frames decoded), a member not on stage is refused, a member who did not attend cannot
subscribe, low-bandwidth mode stops the video but not the audio, and taking the presenter
off stage stops the stream for every viewer."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.browser.session_ui import (
    host_in_room,
    join_session,
    member_in_room,
    open_session,
)
from tests.media import janus_proc
from tests.pictures import readme_picture

pytestmark = [pytest.mark.anyio, pytest.mark.media, pytest.mark.slow]

FRAMES = """(feed) => {
  const v = document.querySelector(`video[data-feed="${feed}"]`);
  return Boolean(v && v.videoWidth > 0);
}"""

CALL = """async ([method, path, body]) => {
  const { api } = await import("/static/api.js");
  try { return {ok: true, body: await api(method, path, body === null ? undefined : body)}; }
  catch (e) { return {ok: false, status: e.status, code: e.code, message: e.message}; }
}"""

OFFER = """async () => {
  const pc = new RTCPeerConnection({iceServers: []});
  const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  s.getTracks().forEach((t) => pc.addTrack(t, s));
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
}"""


async def call(page: Page, method: str, path: str, body: Any = None) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(CALL, [method, path, body])
    return result


async def feed_on(page: Page) -> int:
    """The feed a viewer shows (waits for it to appear)."""
    figure = page.locator("#media-videos figure[data-feed]")
    await expect(figure).to_have_count(1, timeout=20_000)
    return int(await figure.get_attribute("data-feed") or 0)


async def test_presenter_publishes_viewers_receive_off_stage_stops(
        janus: str, server: Any, media_context: Any) -> None:
    ann = await host_in_room(media_context, server)
    bob = await member_in_room(media_context, server, "Bob Presenter")
    viewers = [await member_in_room(media_context, server, name)
               for name in ("Cara Viewer", "Dan Viewer", "Eve Viewer")]
    fay = await member_in_room(media_context, server, "Fay Outside")
    session = await open_session(ann, "Video night")
    for page in (bob, *viewers):
        await join_session(page)
    await expect(ann.locator("#media-status")).to_contain_text(
        "Nobody on stage is on camera yet.")

    # Cara is not on stage: Practica refuses her offer before Janus sees it
    media = f"/api/sessions/{session}/media"
    offer = await viewers[0].evaluate(OFFER)
    refused = await call(viewers[0], "POST", f"{media}/publish",
                         {"jsep": {"type": "offer", "sdp": offer}})
    assert (refused["ok"], refused["status"], refused["code"]) == (False, 403, "forbidden")
    # Fay never attended the session: she may not even look
    outside = await call(fay, "GET", media)
    assert (outside["ok"], outside["status"]) == (False, 403), outside

    await ann.get_by_label("Put on stage").select_option(label="Bob Presenter")
    await ann.get_by_role("button", name="Put on stage").click()
    await bob.get_by_role("button", name="Start my video").click()
    await expect(bob.locator("#media-notice")).to_have_text("You are on camera.")
    watchers = [ann, *viewers]
    feeds = {await feed_on(page) for page in watchers}
    assert len(feeds) == 1
    feed = feeds.pop()
    for page in watchers:
        await page.wait_for_function(FRAMES, arg=feed, timeout=20_000)
        await expect(page.locator("#media-quality")).to_have_text(
            re.compile(r"^Connection: good · [1-9]\d* kbit/s · loss "), timeout=10_000)
    # the README's picture: a viewer's "Stage video" box, receiving
    await viewers[0].evaluate("() => { document.getElementById('toast').hidden = true; }")
    await viewers[0].locator("#session-media").scroll_into_view_if_needed()
    await viewers[0].locator("#session-media").screenshot(
        path=readme_picture("screenshot-media.png"))
    outsider = await call(fay, "POST", f"{media}/subscriptions", {"feed": feed})
    assert (outsider["ok"], outsider["status"]) == (False, 403)
    assert (await call(ann, "POST", f"{media}/subscriptions", {"feed": 12345}))["status"] == 404

    # low-bandwidth mode: Dan's video stops, audio goes on
    dan = viewers[1]
    await dan.get_by_label("Low-bandwidth mode (audio only)").check()
    video_bytes = await received(dan)
    await dan.wait_for_timeout(1500)
    later = await received(dan)
    assert later["video"] - video_bytes["video"] < 2_000, (video_bytes, later)
    assert later["audio"] > video_bytes["audio"]

    # off stage: Janus kicks Bob's feed; every viewer drops it
    await ann.get_by_role("button", name="Take Bob Presenter off stage").click()
    await expect(bob.locator("#media-notice")).to_contain_text("You left the stage")
    for page in watchers:
        await expect(page.locator("#media-videos figure")).to_have_count(0, timeout=10_000)
    view = await call(ann, "GET", media)
    assert view["body"]["publishers"] == []
    again = await call(bob, "POST", f"{media}/publish",
                       {"jsep": {"type": "offer", "sdp": await bob.evaluate(OFFER)}})
    assert (again["ok"], again["status"]) == (False, 403)


RECEIVED = """async () => {
  const out = {video: 0, audio: 0};
  for (const pc of window.practicaMedia.peerConnections()) {
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp") out[r.kind] += r.bytesReceived || 0;
    });
  }
  return out;
}"""


async def received(page: Page) -> dict[str, int]:
    result: dict[str, int] = await page.evaluate(RECEIVED)
    return result


async def test_janus_going_away_turns_video_off_and_the_session_goes_on(
        janus_process: Any, server: Any, media_context: Any) -> None:
    ann = await host_in_room(media_context, server)
    bob = await member_in_room(media_context, server, "Bob Presenter")
    cara = await member_in_room(media_context, server, "Cara Viewer")
    session = await open_session(ann, "Fragile night")
    await join_session(bob)
    await join_session(cara)
    await ann.get_by_label("Put on stage").select_option(label="Bob Presenter")
    await ann.get_by_role("button", name="Put on stage").click()
    await bob.get_by_role("button", name="Start my video").click()
    feed = await feed_on(cara)
    await cara.wait_for_function(FRAMES, arg=feed, timeout=20_000)

    await asyncio.to_thread(janus_proc.stop, janus_process)
    for page in (ann, bob, cara):
        await expect(page.locator("#media-status")).to_contain_text(
            "Room-wide video is off", timeout=15_000)
    await expect(cara.locator("#media-videos figure")).to_have_count(0)
    down = await call(bob, "POST", f"/api/sessions/{session}/media/publish",
                      {"jsep": {"type": "offer", "sdp": await bob.evaluate(OFFER)}})
    assert (down["ok"], down["status"], down["code"]) == (False, 503, "unavailable")
    # the session itself does not notice: the host starts it, the stage changes
    await ann.get_by_role("button", name="Start session").click()
    await ann.get_by_role("button", name="Take Bob Presenter off stage").click()
    await expect(cara.locator("#stage-list")).not_to_contain_text("Bob Presenter")
