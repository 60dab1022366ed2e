"""Media tests (WebRTC, Janus) run inside a loopback-only network namespace.

Every test here marked ``media`` is, in the outer pytest run, replaced by an item that makes
a fresh namespace (tests/media/netns.py), re-runs that one test under ``ip netns exec`` (a
child pytest, so the Practica server, Janus and Chromium all live in the namespace), checks
the namespace is still sealed and what its interfaces carried, and always deletes it. Inside
the namespace (``PRACTICA_NETNS`` set) the test runs as written, with the fixtures below.

Where namespaces or Janus cannot run the tests skip with a loud reason; with
``PRACTICA_MEDIA_REQUIRED=1`` (set by .ci/run) that is a failure instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.browser.conftest import CHROMIUM_ARGS, ensure_chromium
from tests.media import janus_proc, netns

ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_S = 600
WEBRTC_ARGS = [
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
]


def cannot_run(reason: str) -> None:
    """Skip loudly, or fail where media tests must run (CI sets PRACTICA_MEDIA_REQUIRED)."""
    message = f"MEDIA TESTS NOT RUN: {reason}"
    if os.environ.get("PRACTICA_MEDIA_REQUIRED") == "1":
        pytest.fail(message)
    pytest.skip(message)


class NetnsItem(pytest.Item):
    """Stands for one media test in the outer run: runs it inside a fresh namespace."""

    def __init__(self, *, original: pytest.Item, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.original_nodeid = original.nodeid
        self.own_markers = list(original.own_markers)
        self.traffic: dict[str, dict[str, int]] = {}

    def runtest(self) -> None:
        reason = netns.unavailable_reason()
        if reason:
            cannot_run(reason)
        with tempfile.TemporaryDirectory(prefix="practica-media-") as work:
            name = netns.create()
            try:
                report = Path(work) / "report.xml"
                child = run_child(
                    ["ip", "netns", "exec", name, sys.executable, "-m", "pytest",
                     self.original_nodeid, "-p", "no:cacheprovider", "-q", "-x",
                     f"--basetemp={work}/tmp", f"--junitxml={report}"],
                    {**os.environ, netns.ENV_NAME: name})
                netns.check_sealed(name)
                self.traffic = netns.counters(name)
            finally:
                netns.remove(name)
            if netns.exists(name):
                raise AssertionError(f"namespace {name} was not removed")
            outside = {i: c for i, c in self.traffic.items() if i not in ("lo", "vA", "vB")}
            if outside:
                raise AssertionError(f"interfaces beyond loopback/veth appeared: {outside}")
            self.user_properties.append(("netns_traffic", self.traffic))
            self._judge(child, report)

    def _judge(self, child: subprocess.CompletedProcess[str], report: Path) -> None:
        output = f"{child.stdout}\n{child.stderr}"
        if child.returncode == 0 and report.exists():
            skipped = ET.parse(report).getroot().find(".//skipped")
            if skipped is not None:
                cannot_run(skipped.get("message", "skipped inside the namespace"))
            return
        raise AssertionError(f"inside the namespace the test failed (exit "
                             f"{child.returncode}):\n{output[-12000:]}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, AssertionError | pytest.fail.Exception):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.original_nodeid} (in a loopback-only netns)"


def run_child(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the child pytest in a process group of its own: on a timeout (or an interrupt)
    the whole group (Janus, Chromium, the server) is killed, not just the child."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=CHILD_TIMEOUT_S)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):  # strays the test left behind
            os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if netns.inside():
        return
    for index, item in enumerate(items):
        if item.get_closest_marker("media") and isinstance(item, pytest.Function):
            items[index] = NetnsItem.from_parent(item.parent, name=item.name, original=item)


@pytest.fixture(autouse=True)
def _sealed_namespace(request: pytest.FixtureRequest) -> None:
    """Inside: prove we are in the harness's namespace (only lo and the veth pair)."""
    if request.node.get_closest_marker("media") is None:
        return
    name = netns.inside()
    if name is None:
        pytest.fail("a media test ran outside its network namespace")
    interfaces = sorted(os.listdir("/sys/class/net"))
    assert interfaces == ["lo", "vA", "vB"], interfaces


@pytest.fixture
def janus_process(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Janus (Debian's package) with the repository's config, inside the namespace; a test
    may stop it early (``janus_proc.stop``) to see what happens when it goes away."""
    log_path = tmp_path / "janus.log"
    with log_path.open("w") as log:
        try:
            process = janus_proc.start(log)
        except FileNotFoundError as exc:
            cannot_run(str(exc))
        except janus_proc.JanusNotStarted as exc:
            pytest.fail(f"{exc}:\n{log_path.read_text()[-4000:]}")
        try:
            yield process
        finally:
            if process.poll() is None:
                janus_proc.stop(process)


@pytest.fixture
def janus(janus_process: subprocess.Popen[bytes]) -> str:
    """Janus running; the URL of its HTTP API (Practica uses its websocket API,
    ``janus_proc.JANUS_WS``, the default of ``Settings.janus_url``)."""
    return janus_proc.JANUS_URL


@pytest.fixture
async def media_browser() -> AsyncIterator[Browser]:
    """Chromium with fake camera/microphone and loopback ICE (MEDIA.md's flags)."""
    path = await asyncio.to_thread(ensure_chromium)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=path, args=CHROMIUM_ARGS + WEBRTC_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def media_context(media_browser: Browser) -> AsyncIterator[Any]:
    """Each call gives a fresh context (one person each) in the media browser."""
    contexts: list[BrowserContext] = []

    async def make(**kwargs: Any) -> BrowserContext:
        context = await media_browser.new_context(**kwargs)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()
