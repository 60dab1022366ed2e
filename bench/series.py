"""What recurring rooms cost the server: the scheduler's per-sweep look at each series
(``due``: expanding the rule around now), listing a year of occurrences, and writing a
community's iCalendar feed.

    python bench/series.py [--series 50] [--rounds 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, table, write_results  # noqa: E402
from server.actions.series_feed import calendar  # noqa: E402
from server.domain.events import Event  # noqa: E402
from server.domain.recurrence import recurrence  # noqa: E402
from server.domain.series import SeriesState, apply  # noqa: E402
from server.domain.series_clock import due  # noqa: E402
from server.domain.series_events import (  # noqa: E402
    OccurrenceCancelled,
    RsvpGiven,
    SeriesCreated,
    SeriesRules,
)
from server.domain.session_events import community_hour  # noqa: E402

DAY = 86_400_000
RULES = [("FREQ=WEEKLY;BYDAY=TU", "Europe/Berlin"), ("FREQ=WEEKLY;BYDAY=TH",
                                                     "America/New_York"),
         ("FREQ=MONTHLY;BYDAY=2TU", "Europe/Berlin"), ("FREQ=DAILY", "Australia/Sydney"),
         ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE", "America/Santiago")]


def a_series(index: int, now_ms: int) -> SeriesState:
    rule, zone = RULES[index % len(RULES)]
    found = recurrence(rule, "2026-01-05T18:00", zone)
    state = SeriesState(f"s-{index}")
    bodies = [SeriesCreated(series=f"s-{index}", community="bench", room="hall",
                            rules=SeriesRules(title=f"Series {index}", rule=found.rule,
                                              start="2026-01-05T18:00", zone=zone,
                                              duration_min=60, host="m-1",
                                              agenda=community_hour()))]
    for ms in found.between(now_ms, now_ms + 60 * DAY)[:8]:
        key = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ms / 1000))
        bodies += [RsvpGiven(occurrence=key, member=f"m-{m}", name=f"M {m}", answer="yes")
                   for m in range(20)]
        if ms % 3 == 0:
            bodies.append(OccurrenceCancelled(occurrence=key))
    for seq, body in enumerate(bodies, 1):
        apply(state, Event(stream=f"series:s-{index}", seq=seq, ts=now_ms, actor=None,
                           body=body))
    return state


def timed(rounds: int, work) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    now = int(time.time() * 1000)
    states = [a_series(i, now) for i in range(args.series)]
    rows = []
    for name, work in [
        ("due() for every series (one sweep)",
         lambda: [due(s, now) for s in states]),
        ("occurrences: 400 days of every series",
         lambda: [s.occurrences(now, now + 400 * DAY) for s in states]),
        ("community iCalendar feed",
         lambda: calendar(states, "Bench", now - 90 * DAY)),
    ]:
        samples = timed(args.rounds, work)
        rows.append({"what": name, "series": args.series,
                     "p50_ms": f"{percentile(samples, 50):.2f}",
                     "p99_ms": f"{percentile(samples, 99):.2f}"})
    feed = calendar(states, "Bench", now - 90 * DAY)
    rows.append({"what": "feed size (bytes)", "series": args.series,
                 "p50_ms": str(len(feed)), "p99_ms": ""})
    print(table(rows, ["what", "series", "p50_ms", "p99_ms"]))
    print(f"written to {write_results('series', vars(args), rows)}")


if __name__ == "__main__":
    main()
