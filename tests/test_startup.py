"""``practica run`` that cannot start exits non-zero with the reason on stderr; it never
hangs. Each case runs the real command in a subprocess with a deadline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_S = 90  # far above a failed start; only a hang reaches it


def run_practica(tmp_path: Path, database: str, port: int | None = None,
                 **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PRACTICA_")}
    clean |= {"PYTHONPATH": str(ROOT), "PRACTICA_LOG_FORMAT": "text", **env}
    try:
        return subprocess.run(
            [sys.executable, "-m", "server", "run", "--port", str(port or free_port()),
             "--database", database],
            cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=DEADLINE_S)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"practica run hung instead of exiting; stderr:\n{exc.stderr!r}")


def assert_failed(result: subprocess.CompletedProcess[str], reason: str) -> None:
    assert result.returncode != 0, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("practica: could not start:") and reason in last, result.stderr


def test_a_corrupt_database_exits_with_the_reason(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not an SQLite database at all" * 300)
    assert_failed(run_practica(tmp_path, f"sqlite:///{broken}"), "file is not a database")


def test_an_unopenable_database_exits_with_the_reason(tmp_path):
    missing = tmp_path / "no" / "such" / "folder" / "practica.db"
    assert_failed(run_practica(tmp_path, f"sqlite:///{missing}"), "unable to open database")


def test_an_unreachable_postgres_exits_with_the_reason(tmp_path):
    assert_failed(run_practica(tmp_path, "postgresql://postgres@127.0.0.1:1/test"),
                  "refused")


def test_an_unreachable_redis_exits_with_the_reason(tmp_path):
    result = run_practica(tmp_path, f"sqlite:///{tmp_path / 'ok.db'}",
                          PRACTICA_REDIS_URL="redis://127.0.0.1:1/0")
    assert_failed(result, "127.0.0.1:1")


def test_a_taken_port_exits_with_the_reason(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_practica(tmp_path, f"sqlite:///{tmp_path / 'ok.db'}", port=port)
    assert_failed(result, f"could not listen on 127.0.0.1:{port}")
