"""A plain (non-editable) install serves the browser client from any folder: the wheel
ships ``web/`` as the ``practica_web`` package and the server finds it there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build from a copy of the sources, so setuptools' build/ stays out of the checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "server", "web"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name,
             **({"ignore": shutil.ignore_patterns("__pycache__")}
                if (ROOT / name).is_dir() else {}))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(source)], check=True, capture_output=True, timeout=300)
    (found,) = out.glob("practica-*.whl")
    return found


def test_every_server_package_is_listed_for_the_build():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "server").rglob(
        "__init__.py")}
    assert on_disk <= listed


def test_the_wheel_holds_the_web_client_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    client = {f"practica_web/{p.relative_to(ROOT / 'web').as_posix()}"
              for p in (ROOT / "web").rglob("*") if p.is_file()}
    assert "practica_web/index.html" in names
    assert {n for n in client if n.endswith((".js", ".css", ".html"))} <= names
    assert any(n.startswith("server/store/migrations/sqlite/") for n in names)


def test_a_plain_install_serves_the_client_from_another_folder(wheel, tmp_path):
    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(target), "PRACTICA_LOG_FORMAT": "text",
           "PRACTICA_DATABASE_URL": f"sqlite:///{elsewhere / 'practica.db'}"}
    log = tmp_path / "server.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", "import server, sys; assert server.__file__.startswith("
             "sys.argv[1]); from server.cli import main; main(['run', '--port', sys.argv[2]])",
             str(target), str(port)],
            cwd=elsewhere, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        page = None
        while page is None:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the installed server never answered"
                time.sleep(0.2)
        assert page.status_code == 200
        assert page.text == (ROOT / "web" / "index.html").read_text()
        script = httpx.get(f"http://127.0.0.1:{port}/static/app.js", timeout=5)
        assert script.status_code == 200
        assert script.text == (ROOT / "web" / "app.js").read_text()
    finally:
        process.terminate()
        process.wait(30)
