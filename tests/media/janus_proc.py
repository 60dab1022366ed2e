"""Starting and stopping Janus (Debian's package) with the repository's config, as the
media tests and bench/media.py do inside their network namespace."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from tests.media import netns

ROOT = Path(__file__).resolve().parents[2]
JANUS_CONFIG = ROOT / "server" / "media" / "janus"
JANUS_URL = "http://127.0.0.1:8088/janus"  # the HTTP transport: the health probe
JANUS_WS = "ws://127.0.0.1:8188"  # what Practica talks to (Settings.janus_url's default)


class JanusNotStarted(RuntimeError):
    pass


def start(log: IO[str]) -> subprocess.Popen[bytes]:
    """Janus gathering ICE candidates on the namespace's 127.0.0.2, answering /info."""
    binary = shutil.which("janus")
    if binary is None:
        raise FileNotFoundError("Janus is not installed (apt-get install janus; .ci/run does)")
    process = subprocess.Popen(
        [binary, "-C", str(JANUS_CONFIG / "janus.jcfg"), "-F", str(JANUS_CONFIG),
         "-E", netns.JANUS_ADDRESS, "-o"], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        if process.poll() is not None:
            raise JanusNotStarted(f"Janus exited ({process.returncode})")
        try:
            with urllib.request.urlopen(f"{JANUS_URL}/info", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    stop(process)
    raise JanusNotStarted(f"Janus did not answer on {JANUS_URL}/info")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait (Janus takes over a second): its ports are free afterwards."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
