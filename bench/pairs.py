"""How well and how fast the pair-up matcher works (``server/domain/matching.py``).

- A simulation: 12 weekly sessions of a community of 40 members with churn (each
  week some leave for good and newcomers join; each member attends with their own
  probability; one attendee presents). Stages come from ``stage_from`` on the
  simulated figures, a few members block one another. It reports distinct partners
  per member, the repeat rate (pairs who also met the week before) and the
  newcomer-experienced mix rate (newcomers whose group has an experienced member,
  against the most possible that week), for the matcher and, in the same
  attendance, for uniform random pairs (what today's tools do). A second, small
  community (12 members) shows what happens when partners run out.
- Matching time for 100, 1,000 and 5,000 present members (with 12 weeks of history
  and a newcomer/member/experienced mix), and for the exact path near its threshold.
- The quality the greedy path gives up against the exact matching where exact is
  still feasible (200 and 300 people): weight, repeats, newcomer-experienced pairs.

    python bench/pairs.py [--weeks 12] [--members 40] [--quality-sizes 200,300]
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import table, write_results  # noqa: E402
from server.domain.matching import (  # noqa: E402
    EXACT_UP_TO,
    Meeting,
    Round,
    Stage,
    match,
    pair_key,
    pairing,
    stage_from,
)


class Member:
    def __init__(self, ident: str, rng: random.Random, joined_day: float, veteran: bool):
        self.ident = ident
        self.joined_day = joined_day
        self.attendance = rng.uniform(0.55, 0.95)
        self.attended = rng.randint(0, 20) if veteran else 0
        self.presented = rng.choice([0, 0, 0, 1, 2, 3]) if veteran else 0

    def stage(self, today: float) -> Stage:
        return stage_from(self.attended, self.presented, today - self.joined_day)


def random_round(present: list[str], rng: random.Random) -> list[tuple[str, ...]]:
    order = list(present)
    rng.shuffle(order)
    groups: list[tuple[str, ...]] = [tuple(order[i:i + 2]) for i in range(0, len(order) - 1, 2)]
    if len(order) % 2:
        groups[-1] = (*groups[-1], order[-1])
    return groups


def group_pairs(groups: list[tuple[str, ...]] | tuple[tuple[str, ...], ...]
                ) -> set[tuple[str, str]]:
    return {pair_key(a, b) for g in groups for a, b in itertools.combinations(g, 2)}


def simulate(weeks: int, members: int, churn: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    counter = itertools.count()
    community = [Member(f"m{next(counter)}", rng, -rng.uniform(0, 400), veteran=True)
                 for _ in range(members)]
    blocks = {pair_key(*rng.sample([m.ident for m in community], 2)) for _ in range(3)}
    rows = []
    for strategy in ("matcher", "random"):
        sim_rng = random.Random(seed + 1)  # the same attendance and churn for both
        roster = [Member(m.ident, random.Random(0), m.joined_day, veteran=False)
                  for m in community]
        for fresh, original in zip(roster, community, strict=True):
            fresh.attendance, fresh.attended = original.attendance, original.attended
            fresh.presented = original.presented
        people = {m.ident: m for m in roster}
        counter = itertools.count(members)
        history: list[Meeting] = []
        last_week: set[tuple[str, str]] = set()
        partners: dict[str, set[str]] = {}
        rounds_of: dict[str, int] = {}
        pairs_total = repeats = ever_met = 0
        newcomers_present = newcomers_mixed = mix_possible = 0
        times: list[float] = []
        for week in range(weeks):
            today = week * 7.0
            if week:
                for _ in range(churn):
                    roster.remove(sim_rng.choice(roster))
                    newcomer = Member(f"m{next(counter)}", sim_rng, today - 1, veteran=False)
                    roster.append(newcomer)
                    people[newcomer.ident] = newcomer
            present = [m.ident for m in roster if sim_rng.random() < m.attendance]
            stages = {who: people[who].stage(today) for who in present}
            round_rng = random.Random(seed * 1000 + week)
            if strategy == "matcher":
                started = time.perf_counter()
                decided: Round = match(pairing(present, history=history, today=today,
                                               stages=stages, blocks=blocks, rng=round_rng),
                                       round_rng)
                times.append(time.perf_counter() - started)
                groups = list(decided.groups)
            else:
                groups = random_round(present, round_rng)
            met_before = {pair_key(m.a, m.b) for m in history}
            this_week = group_pairs(groups)
            pairs_total += len(this_week)
            repeats += len(this_week & last_week)
            ever_met += len(this_week & met_before)
            newcomers = [w for w in present if stages[w] == Stage.NEWCOMER]
            experienced = [w for w in present if stages[w] == Stage.EXPERIENCED]
            newcomers_present += len(newcomers)
            mix_possible += min(len(newcomers), len(experienced))
            for group in groups:
                has_experienced = any(stages[w] == Stage.EXPERIENCED for w in group)
                newcomers_mixed += sum(1 for w in group
                                       if stages[w] == Stage.NEWCOMER and has_experienced)
                for who in group:
                    partners.setdefault(who, set()).update(set(group) - {who})
                    rounds_of[who] = rounds_of.get(who, 0) + 1
            history += [Meeting(a, b, today) for a, b in this_week]
            last_week = this_week
            for who in present:
                people[who].attended += 1
            if present:
                people[sim_rng.choice(present)].presented += 1
        distinct = [len(partners[w]) / rounds_of[w] for w in partners]
        rows.append({
            "strategy": strategy,
            "members_seen": len(partners),
            "distinct_partners_mean": round(statistics.mean(len(v) for v in partners.values()),
                                            2),
            "distinct_per_round_attended": round(statistics.mean(distinct), 3),
            "pairs": pairs_total,
            "repeat_of_last_week": repeats,
            "repeat_rate": round(repeats / pairs_total, 4),
            "met_before_rate": round(ever_met / pairs_total, 4),
            "newcomer_experienced_mix": round(newcomers_mixed / max(newcomers_present, 1), 3),
            "mix_possible": round(mix_possible / max(newcomers_present, 1), 3),
            "match_ms_max": round(max(times) * 1000, 1) if times else None,
        })
    return rows


def crowd(n: int, seed: int, weeks: int = 12) -> tuple[list[str], list[Meeting], dict[str, Stage],
                                                      set[tuple[str, str]]]:
    """n members, a 15/55/30 % newcomer/member/experienced mix, and `weeks` of past
    random rounds as history, a few blocks."""
    rng = random.Random(seed)
    people = [f"p{i}" for i in range(n)]
    stages = {w: Stage.NEWCOMER if rng.random() < 0.15 else
              Stage.EXPERIENCED if rng.random() < 0.35 else Stage.MEMBER for w in people}
    history = [Meeting(a, b, -7.0 * (week + 1)) for week in range(weeks)
               for a, b in group_pairs(random_round(people, rng))]
    blocks = {pair_key(*rng.sample(people, 2)) for _ in range(n // 20)}
    return people, history, stages, blocks


def timed(n: int, seed: int, exact_up_to: int) -> tuple[float, Round]:
    people, history, stages, blocks = crowd(n, seed)
    rng = random.Random(seed)
    started = time.perf_counter()
    decided = match(pairing(people, history=history, stages=stages, blocks=blocks, rng=rng),
                    rng, exact_up_to=exact_up_to)
    return time.perf_counter() - started, decided


def met_before(decided: Round, history: list[Meeting]) -> int:
    met = {pair_key(m.a, m.b) for m in history}
    return len(group_pairs(decided.groups) & met)


def mix_pairs(decided: Round, stages: dict[str, Stage]) -> int:
    return sum(1 for g in decided.groups if {stages[w] for w in g} >= {Stage.NEWCOMER,
                                                                      Stage.EXPERIENCED})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--churn", type=int, default=3, help="leave and join per week")
    parser.add_argument("--small", type=int, default=12,
                        help="a second, small community, where partners run out")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--exact-sizes", default="40,60")
    parser.add_argument("--quality-sizes", default="200,300")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    sim = [{"members": args.members, **row}
           for row in simulate(args.weeks, args.members, args.churn, args.seed)]
    sim += [{"members": args.small, **row}
            for row in simulate(args.weeks, args.small, 0, args.seed)]
    print(f"simulation: {args.weeks} weekly sessions, {args.members} members with "
          f"{args.churn} leaving and joining each week, and {args.small} members without churn")
    print(table(sim, list(sim[0])))

    timing = []
    for n, path in [*((int(s), "exact") for s in args.exact_sizes.split(",") if s),
                    *((int(s), "auto") for s in args.sizes.split(",") if s)]:
        runs = [timed(n, args.seed + r, EXACT_UP_TO if path == "auto" else n)
                for r in range(args.repeats)]
        ms = sorted(t * 1000 for t, _ in runs)
        timing.append({"members": n, "path": "exact" if runs[0][1].exact else "greedy",
                       "median_ms": round(statistics.median(ms), 1),
                       "max_ms": round(ms[-1], 1), "repeats": max(r.repeats for _, r in runs)})
    print("\nmatching time (pairing() + match(), 12 weeks of history)")
    print(table(timing, list(timing[0])))

    quality = []
    for n in (int(s) for s in args.quality_sizes.split(",") if s):
        _people, history, stages, _blocks = crowd(n, args.seed)
        greedy_s, greedy = timed(n, args.seed, 0)
        exact_s, exact = timed(n, args.seed, n)
        lost = exact.matching_weight - greedy.matching_weight
        quality.append({
            "members": n, "exact_s": round(exact_s, 2), "greedy_ms": round(greedy_s * 1000, 1),
            "weight_exact": round(exact.matching_weight, 1),
            "weight_greedy": round(greedy.matching_weight, 1),
            "lost_per_pair": round(lost / (n // 2), 2),
            "repeats_exact": exact.repeats, "repeats_greedy": greedy.repeats,
            "met_before_exact": met_before(exact, history),
            "met_before_greedy": met_before(greedy, history),
            "mix_pairs_exact": mix_pairs(exact, stages),
            "mix_pairs_greedy": mix_pairs(greedy, stages),
        })
    if quality:
        print("\ngreedy against exact (weights: mix bonus 30, jitter < 1, 100 per earlier "
              "meeting halving every 28 days)")
        print(table(quality, list(quality[0])))

    path = write_results("pairs", vars(args), [
        {"part": "simulation", **row} for row in sim] + [
        {"part": "timing", **row} for row in timing] + [
        {"part": "quality", **row} for row in quality])
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
