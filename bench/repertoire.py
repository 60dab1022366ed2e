"""How fast the repertoire's pieces are, in one process on SQLite:

- the confidential-details guard: loading the detectors (importing scrubadub, which
  imports scikit-learn and NLTK; once per process) and scanning a paragraph;
- repertoire search: indexing N artefacts and a transcript of M lines through the
  projections, then p50/p99 of a search (title-first ranking) over them;
- erasing one line of that M-line transcript as the erasure action does (read the
  stream, decide what goes, one transaction nulling the bodies with the
  ``words_erased`` marker, the search index dropping the line), against appending one
  chat line to the same stream (the baseline, measured in the same run).

    python bench/repertoire.py [--artefacts 2000] [--lines 5000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, table, write_results  # noqa: E402
from server.domain.artefact_events import ArtefactCreated  # noqa: E402
from server.domain.events import EventBody  # noqa: E402
from server.domain.session_erasure import erasure  # noqa: E402
from server.domain.session_events import ChatSaid, Segment, SessionOpened  # noqa: E402
from server.projections.projector import Projector  # noqa: E402
from server.projections.query import parse, to_fts5  # noqa: E402
from server.projections.repertoire_query import _SQLITE  # noqa: E402
from server.projections.repertoire_search import ArtefactSearch, TranscriptSearch  # noqa: E402
from server.store.sqlite import SqliteStore  # noqa: E402

WORDS = ("care plan review handover dose consent wound pressure ulcer falls delirium "
         "sepsis discharge family goals pain mobility nutrition sleep anxiety").split()
PARAGRAPH = ("Dr. Margaret Hale saw Mrs Jones (DOB 14/03/1962) on the ward; call 020 7946 "
             "0958. MRN 00457812. She lives at 12 Harbour Street, Leeds LS1 4AB. ") * 3


def guard() -> list[dict[str, object]]:
    start = time.perf_counter()
    from server.confidential import scan, warm
    warm()
    loaded = time.perf_counter() - start
    times = []
    for _ in range(20):
        t = time.perf_counter()
        found = scan(PARAGRAPH)
        times.append(time.perf_counter() - t)
    return [{"what": "load detectors (once)", "ms": round(loaded * 1000)},
             {"what": f"scan {len(PARAGRAPH)} chars ({len(found)} findings), p50",
              "ms": round(percentile(times, 50) * 1000, 1)}]


async def search(artefacts: int, lines: int, queries: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(str(Path(folder) / "bench.db"))
        await store.open()
        try:
            def text(n: int) -> str:
                return " ".join(rng.choice(WORDS) for _ in range(n))

            for i in range(artefacts):
                await store.append(f"artefact:a-{i}", "m-1", [ArtefactCreated(
                    artefact=f"a-{i}", community="guild", kind="faq", title=text(4),
                    body=text(120), author="m-1", author_name="Ann")])
            said: list[EventBody] = [SessionOpened(
                session="s-1", room="r-1", title="Hour", community="guild",
                agenda=[Segment(kind="open", title="Talk", minutes=60)])]
            said += [ChatSaid(text=text(15), name="Bo") for _ in range(lines)]
            for start in range(0, len(said), 500):
                await store.append("session:s-1", "m-1", said[start:start + 500])
            start_t = time.perf_counter()
            for projection in (ArtefactSearch(), TranscriptSearch()):
                await Projector(store, projection).catch_up()
            indexed = time.perf_counter() - start_t
            streams = [f"artefact:a-{i}" for i in range(artefacts)] + ["session:s-1"]
            sql = _SQLITE.format(streams=", ".join("?" for _ in streams))
            times = []
            for _ in range(queries):
                terms = parse(" ".join(rng.sample(WORDS, 2)))
                t = time.perf_counter()
                await store.fetch(sql, (to_fts5(terms), *streams, 20))
                times.append(time.perf_counter() - t)
            erase_times, append_times = await erase_lines(store, lines, 20)
        finally:
            await store.close()
    return [{"what": f"index {artefacts} artefacts + {lines} lines", "ms": round(indexed * 1000)},
            {"what": "search (2 words, 20 hits), p50",
             "ms": round(percentile(times, 50) * 1000, 2)},
            {"what": "search (2 words, 20 hits), p99",
             "ms": round(percentile(times, 99) * 1000, 2)},
            {"what": "append one chat line (baseline), p50",
             "ms": round(percentile(append_times, 50) * 1000, 2)},
            {"what": f"erase one line of {lines} (read, decide, commit, unindex), p50",
             "ms": round(percentile(erase_times, 50) * 1000, 2),
             "ratio": round(percentile(erase_times, 50) / percentile(append_times, 50), 1)}]


async def erase_lines(store: SqliteStore, lines: int, count: int
                      ) -> tuple[list[float], list[float]]:
    """Erase ``count`` chat lines of ``session:s-1`` (the erasure action's steps, without
    its authority checks), each time appending one line first as the baseline."""
    stream, index = "session:s-1", Projector(store, TranscriptSearch())
    await index.catch_up()
    erased, appended = [], []
    for n in range(count):
        t = time.perf_counter()
        await store.append(stream, "m-1", [ChatSaid(text="one more line", name="Bo")])
        appended.append(time.perf_counter() - t)
        await index.catch_up()
        t = time.perf_counter()
        events = []
        while page := await store.read(stream, events[-1].seq if events else 0, 1000):
            events += page
        marker = erasure(events, 2 + n * (lines // count))
        await store.append(stream, None, [marker], expected=events[-1].seq, also=[
            ("UPDATE events SET body = NULL WHERE stream = ? AND seq = ?", (stream, seq))
            for seq in marker.seqs])
        await index.catch_up()
        erased.append(time.perf_counter() - t)
    return erased, appended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--artefacts", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rows = guard() + asyncio.run(search(args.artefacts, args.lines, args.queries))
    print(table(rows, ["what", "ms", "ratio"]))
    write_results("repertoire", vars(args), rows)


if __name__ == "__main__":
    main()
