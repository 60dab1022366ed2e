"""schemathesis against the committed OpenAPI document and a running server: whatever
it generates (valid, invalid, signed in or not), the server never answers 5xx, and
every response's status code, content type, headers and body are the ones the
document declares."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.people import Person

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "openapi.json"
CHECKS = ",".join(("not_a_server_error", "status_code_conformance", "content_type_conformance",
                   "response_headers_conformance", "response_schema_conformance"))


async def schemathesis(server, *headers: str, examples: int, phases: str, seconds: int,
                       cwd: Path) -> str:
    args = [sys.executable, "-m", "schemathesis.cli", "run", str(SCHEMA), "--url", server.url,
            "--checks", CHECKS, "--max-examples", str(examples), "--seed", "7",
            "--phases", phases, "--request-timeout", "10", "--max-time", str(seconds), "--no-color",
            # Signing out or deleting the account would end the run's own session.
            "--exclude-path", "/api/signout", "--exclude-path", "/api/account/delete"]
    for header in headers:
        args += ["--header", header]
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=cwd)  # it keeps a .schemathesis/ folder in its working directory
    output, _ = await asyncio.wait_for(process.communicate(), 300)
    text = output.decode()
    assert process.returncode == 0, text[-4000:]
    return text


# More routes, more refusals within a minute: the refusal limit is not what this tests.
@pytest.mark.settings(signups_per_hour_per_address=100_000, commands_per_minute=100_000,
                      refusals_per_minute=100_000)
async def test_no_server_errors_signed_out_or_in(server, tmp_path):
    anonymous = await schemathesis(server, examples=10, phases="examples,coverage,fuzzing",
                                   seconds=30, cwd=tmp_path)
    assert " passed" in anonymous
    fuzzer = await Person.sign_up(server.url, "Fuzzer")
    made = await fuzzer.call("POST", "/api/communities", {
        "community": "fuzz", "name": "Fuzz", "domain": "d", "purpose": "p"})
    assert made.status_code == 201
    signed_in = await schemathesis(
        server, f"Cookie: practica_session={fuzzer.session_cookie}; "
        f"practica_csrf={fuzzer.csrf}", f"X-CSRF-Token: {fuzzer.csrf}", examples=20,
        phases="examples,coverage,fuzzing,stateful", seconds=45,
        cwd=tmp_path)
    assert " passed" in signed_in
