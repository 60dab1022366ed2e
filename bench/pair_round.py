"""How long the host's one click takes to decide, and a late arrival and a leave in a
running round (``server/domain/session_pairs.py``, pure: the fold, the matcher, the
events), for 100, 1,000 and 5,000 attendees present with a newcomer/member/experienced
mix and 12 weeks of history. The goal: everyone present paired within a second.

    python bench/pair_round.py [--sizes 100,1000,5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import table, write_results  # noqa: E402
from server.domain import session_decide as sd  # noqa: E402
from server.domain.events import Event, EventBody  # noqa: E402
from server.domain.matching import Meeting, Stage  # noqa: E402
from server.domain.session import SessionState, apply  # noqa: E402
from server.domain.session_events import AttendeeArrived, Segment, SessionStarted  # noqa: E402
from server.domain.session_pairs import PairContext, PairingInputs, left  # noqa: E402
from server.session_protocol import AttendOp, PairOp  # noqa: E402

T0 = 1_900_000_000_000
HOST = sd.SessionActor(id="m-host", name="Host", key="k", runs=True)


def session(n: int) -> SessionState:
    state = SessionState("s-1")
    seq = 0

    def add(body: EventBody) -> None:
        nonlocal seq
        seq += 1
        apply(state, Event(stream="session:s-1", seq=seq, ts=T0, actor=None, body=body))

    add(sd.decide_open("s-1", "g", "hall", "Hour", [
        Segment(kind="pairs", title="Pairs", minutes=10)], True, state)[0])
    for i in range(n):
        add(AttendeeArrived(member=f"m-{i}", name=f"Person {i}"))
    add(SessionStarted(deadline_ms=T0 + 600_000))
    return state


def inputs(n: int, rng: random.Random) -> PairingInputs:
    stages = {f"m-{i}": rng.choice(list(Stage)) for i in range(n)}
    history = [Meeting(f"m-{rng.randrange(n)}", f"m-{rng.randrange(n)}", float(week * 7))
               for week in range(12) for _ in range(n // 2)]
    return PairingInputs(history=history, today=84.0, stages=stages)


def ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def measure(n: int, repeat: int) -> dict[str, object]:
    rng = random.Random(n)
    data = inputs(n + 1, rng)
    present = frozenset(f"m-{i}" for i in range(n))
    pair, late, leave = [], [], []
    for r in range(repeat):
        state = session(n)
        context = PairContext(present=present, inputs=data, seed=f"seed-{r}")
        started = time.perf_counter()
        made = sd.decide(state, HOST, PairOp(round=0), T0, random.Random(r), context)
        pair.append(ms(started))
        apply(state, Event(stream="session:s-1", seq=state.seq + 1, ts=T0, actor=None,
                           body=made.bodies[0]))
        newcomer = sd.SessionActor(id=f"m-{n}", name="Late", key="k")
        started = time.perf_counter()
        sd.decide(state, newcomer, AttendOp(), T0, random.Random(r), context)
        late.append(ms(started))
        started = time.perf_counter()
        left(state, "m-0", "left", context)
        leave.append(ms(started))
    return {"present": n, "pair_ms": round(statistics.median(pair), 1),
            "pair_max_ms": round(max(pair), 1),
            "late_arrival_ms": round(statistics.median(late), 1),
            "leave_ms": round(statistics.median(leave), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = [measure(int(n), args.repeat) for n in args.sizes.split(",")]
    print(table(rows, ["present", "pair_ms", "pair_max_ms", "late_arrival_ms", "leave_ms"]))
    write_results("pair_round", {"repeat": args.repeat}, rows)


if __name__ == "__main__":
    main()
