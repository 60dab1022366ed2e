"""Export and import of a repertoire over a running server: a zip of markdown files with
front matter that reads back into the same artefacts and collections (excerpts kept where
they cite this community's sessions), erased lines exported as erased, and a broken file
refused whole."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import httpx2
import pytest

from server.domain.events import session_stream
from server.domain.repertoire_files import parse
from tests.people import Person
from tests.test_artefacts import make, transcript_lines
from tests.test_communities import found
from tests.test_transcripts import SESSION, community_with_session

pytestmark = pytest.mark.anyio


async def export(person: Person, community: str = "guild") -> dict[str, str]:
    reply = await person.call("GET", f"/api/communities/{community}/repertoire/export")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(reply.content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


async def upload(person: Person, data: bytes, community: str) -> httpx2.Response:
    async with httpx2.AsyncClient(base_url=person.base_url, cookies=person.cookies) as http:
        return await http.post(f"/api/communities/{community}/repertoire/import",
                               content=data, headers={"x-csrf-token": person.csrf,
                                                      "content-type": "application/octet-stream"})


def zipped(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


async def repertoire(server: Any) -> tuple[Person, Person, str, int]:
    owner, member, _ = await community_with_session(server)
    chat = next(line for line in await transcript_lines(member) if line["kind"] == "chat")
    cited = (await make(member, title="Cited", body="# Heading\n\nText *here*.",
                        tags=["intake"], excerpts=[{"session": SESSION,
                                                    "from_seq": chat["seq"],
                                                    "to_seq": chat["seq"] + 1}])).json()
    ident = cited["artefact"]["artefact"]
    plain = (await make(member, kind="faq", title="Plain")).json()["artefact"]["artefact"]
    saved = await owner.call("PUT", "/api/communities/guild/collections/start-here", {
        "title": "Start here", "description": "Read these first", "artefacts": [plain,
                                                                                ident]})
    assert saved.status_code == 200, saved.text
    return owner, member, ident, chat["seq"]


async def test_export_is_markdown_with_front_matter_and_erased_lines_erased(server):
    _owner, member, ident, seq = await repertoire(server)
    files = await export(member)
    path = f"artefacts/case_story/{ident}.md"
    assert sorted(files) == sorted([path, "collections/start-here.md",
                                    *[p for p in files if p.startswith("artefacts/faq/")]])
    fields, body = parse(path, files[path])
    assert body == "# Heading\n\nText *here*."
    assert (fields["title"], fields["tags"], fields["authors"]) == (
        "Cited", ["intake"], ["Mo Member"])
    assert fields["excerpts"][0]["lines"][0] == {"seq": seq, "who": "Olu Owner",
                                                "text": "hello *all*"}
    assert parse("c", files["collections/start-here.md"])[0]["artefacts"][1] == ident
    await server.practica.store.execute([(
        "UPDATE events SET body = NULL WHERE stream = ? AND seq = ?",
        (session_stream(SESSION), seq))])
    again = await export(member)
    assert "hello" not in again[path]
    assert parse(path, again[path])[0]["excerpts"][0]["lines"][0]["text"] == "erased"


async def test_an_export_imports_back_elsewhere_and_here(server):
    owner, member, ident, _ = await repertoire(server)
    data = zipped(await export(member))
    # Another community: the artefacts and collection come across, the excerpts of a
    # session that is not its own are dropped (and said so).
    other = await found(server, community="other")
    reply = await upload(other, data, "other")
    assert reply.status_code == 201, reply.text
    report = reply.json()
    assert report["collections"] == ["start-here"] and report["skipped"] == []
    assert [d["reason"] for d in report["excerpts_dropped"]] == [
        f"session {SESSION} is not in other"]
    listed = (await other.call("GET", "/api/communities/other/collections/start-here")).json()
    assert [a["title"] for a in listed["artefacts"]] == ["Plain", "Cited"]
    # Here again: the ids are taken, so new ones; the excerpts are kept.
    reply = await upload(owner, data, "guild")
    made = reply.json()["artefacts"][f"artefacts/case_story/{ident}.md"]
    assert made != ident
    page = (await owner.call("GET", f"/api/artefacts/{made}")).json()
    assert page["quotes"][0]["lines"][0]["text"] == "hello *all*"
    assert page["artefact"]["body"] == "# Heading\n\nText *here*."


async def test_a_broken_import_makes_nothing(server):
    owner, member, _, _ = await repertoire(server)
    before = await server.practica.store.streams("artefact:")
    good = "---\nkind: \"faq\"\ntitle: \"Fine\"\n---\nBody\n"
    cases = [
        (b"not a zip", "not a zip"),
        (zipped({"artefacts/faq/a.md": good, "artefacts/faq/b.md": "no front matter"}),
         "artefacts/faq/b.md"),
        (zipped({"artefacts/faq/a.md": good, "artefacts/x/c.md": good.replace(
            "faq", "poem")}), "kind must be one of"),
        (zipped({"artefacts/faq/a.md": "---\nkind: \"faq\"\ntitle: \"x\"\n"}),
         "never ends"),
    ]
    for data, words in cases:
        reply = await upload(owner, data, "guild")
        assert (reply.status_code, reply.json()["code"]) == (400, "invalid"), reply.text
        assert words in reply.json()["message"]
    assert await server.practica.store.streams("artefact:") == before
    refused = await upload(member, zipped({"artefacts/faq/a.md": good}), "guild")
    assert refused.status_code == 403  # conveners import


async def test_words_are_erased_by_who_said_them_or_an_owner(server):
    owner, member, ident, seq = await repertoire(server)  # seq: the owner's chat line
    socket = await member.connect(server.ws_url)
    await socket.identify(community="guild")
    said = await socket.command("session", session=SESSION,
                                op={"op": "ask", "text": "Pangolins or tapirs?"})
    edited = await socket.command("session", session=SESSION, op={
        "op": "edit_question", "question": 2, "text": "Pangolins or okapis?"})
    assert said["type"] == edited["type"] == "ack", (said, edited)
    await socket.close()
    found = "/api/communities/guild/repertoire/search?q="
    assert (await member.call("GET", found + "okapis")).json()["hits"]
    # Someone else's words: a member may not; the owner may.
    refused = await member.call("POST", f"/api/sessions/{SESSION}/lines/{seq}/erase")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    erased = await member.call("POST", f"/api/sessions/{SESSION}/lines/{said['seq']}/erase")
    assert erased.status_code == 200, erased.text
    assert erased.json()["seqs"] == [said["seq"], edited["seq"]]
    by_owner = await owner.call("POST", f"/api/sessions/{SESSION}/lines/{seq}/erase")
    assert by_owner.json()["seqs"] == [seq]
    # Gone from search, exports, quotes and the live session; the chain verifies.
    for word in ("okapis", "pangolins", "hello"):
        assert (await member.call("GET", found + word)).json()["hits"] == [], word
    text = (await member.call("GET", f"/api/sessions/{SESSION}/transcript.md")).text
    assert "Pangolins" not in text and "hello" not in text
    page = (await member.call("GET", f"/api/artefacts/{ident}")).json()
    assert page["quotes"][0]["lines"][0]["text"] == "erased"
    live = (await member.call("GET", f"/api/sessions/{SESSION}")).json()
    assert "Pangolins" not in str(live)
    assert (await server.practica.store.verify()).ok
    for bad, code in ((seq, 200), (1, 400), (999, 404), ("x", 404)):
        reply = await owner.call("POST", f"/api/sessions/{SESSION}/lines/{bad}/erase")
        assert reply.status_code == code, (bad, reply.text)
    audit = (await owner.call("GET", "/api/communities/guild/audit")).json()
    assert "erase_words" in str(audit) and "Pangolins" not in str(audit)
