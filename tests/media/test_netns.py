"""The media harness itself: the namespace is sealed, Chromium makes a loopback WebRTC
connection inside it, Janus starts inside it, and the namespace is removed afterwards."""

from __future__ import annotations

import errno
import json
import socket
import urllib.request
from typing import Any

import pytest

from tests.media import netns

pytestmark = [pytest.mark.anyio]

LOOPBACK_CALL = """async () => {
  const a = new RTCPeerConnection({iceServers: []});
  const b = new RTCPeerConnection({iceServers: []});
  const stream = await navigator.mediaDevices.getUserMedia({video: true, audio: false});
  stream.getTracks().forEach((t) => a.addTrack(t, stream));
  const candidates = [];
  a.onicecandidate = (e) => { if (e.candidate) { candidates.push(e.candidate.address);
                                                 b.addIceCandidate(e.candidate); } };
  b.onicecandidate = (e) => { if (e.candidate) { a.addIceCandidate(e.candidate); } };
  const video = document.createElement("video");
  video.muted = true; video.autoplay = true; document.body.append(video);
  b.ontrack = (e) => { video.srcObject = e.streams[0]; };
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  for (let i = 0; i < 200 && !(b.connectionState === "connected" && video.videoWidth > 0); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return {state: b.connectionState, width: video.videoWidth, candidates};
}"""


def test_outside_addresses_are_unreachable() -> None:
    """Not marked media: runs in the outer process, and proves the harness seals a namespace."""
    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(f"MEDIA HARNESS NOT CHECKED: {reason}")
    name = netns.create()
    try:
        assert netns.exists(name)
        netns.check_sealed(name)
        route = netns.run_in(name, "ip", "route", "get", "10.1.2.3", check=False)
        assert route.returncode != 0, route.stdout
        assert "unreachable" in route.stderr
    finally:
        netns.remove(name)
    assert not netns.exists(name)


@pytest.mark.media
def test_inside_only_loopback_answers() -> None:
    with pytest.raises(OSError) as refused:
        socket.create_connection(("10.1.2.3", 80), timeout=2)
    assert refused.value.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)


@pytest.mark.media
async def test_chromium_connects_over_loopback(media_context: Any) -> None:
    page = await (await media_context()).new_page()
    # localhost is a secure context (getUserMedia needs one); the route answers it in-process
    await page.route("http://localhost/", lambda route: route.fulfill(
        body="<!doctype html><title>call</title>", content_type="text/html"))
    await page.goto("http://localhost/")
    result = await page.evaluate(LOOPBACK_CALL)
    assert result["state"] == "connected"
    assert result["width"] > 0
    assert result["candidates"], "no ICE candidates gathered"
    assert all(str(a).startswith("127.") for a in result["candidates"]), result


@pytest.mark.media
def test_janus_starts_inside(janus: str) -> None:
    with urllib.request.urlopen(f"{janus}/info", timeout=2) as answer:
        info = json.loads(answer.read())
    assert "janus.plugin.videoroom" in info["plugins"]
    assert set(info["plugins"]) == {"janus.plugin.videoroom"}
