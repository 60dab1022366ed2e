"""What authorization and passwords cost.

- The per-command check: every websocket command builds the actor from the
  community's fold and calls ``allowed()``. Measured in ns per check, against
  a baseline in the same run: one dict lookup plus an empty call (the least a
  check could cost).
- Password hashing: argon2id with Practica's settings (19 MiB, 2 passes) per
  hash and per verify, against argon2-cffi's low-memory RFC 9106 profile
  measured in the same run; and how many sign-ins per second one core can check.

    python bench/auth.py [--checks 200000] [--hashes 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from argon2 import PasswordHasher, profiles  # noqa: E402

from bench.common import table, write_results  # noqa: E402
from server.authority import Authority, Principal  # noqa: E402
from server.domain.community import CommunityState, MemberInfo  # noqa: E402
from server.domain.policy import Action, Resource, allowed  # noqa: E402


def per_check_ns(checks: int) -> tuple[float, float]:
    state = CommunityState("bench")
    for i in range(500):
        state.members[f"m-{i}"] = MemberInfo(member=f"m-{i}", name=f"M {i}",
                                             role="host" if i % 10 else "member")
    authority = Authority(store=None, folds=None)  # type: ignore[arg-type]
    principal = Principal(session="s", member="m-7", name="M 7", account="m-7", csrf="c")
    resource = Resource(community="bench", room="r")

    def noop(member: object) -> bool:
        return member is not None

    started = time.perf_counter_ns()
    for _ in range(checks):
        noop(state.members.get("m-7"))
    baseline = (time.perf_counter_ns() - started) / checks
    started = time.perf_counter_ns()
    for _ in range(checks):
        allowed(authority.actor(principal, state), Action.POST, resource)
    check = (time.perf_counter_ns() - started) / checks
    return check, baseline


def hash_ms(hasher: PasswordHasher, rounds: int) -> tuple[float, float]:
    started = time.perf_counter()
    stored = ""
    for _ in range(rounds):
        stored = hasher.hash("correct horse battery staple")
    hashed = (time.perf_counter() - started) / rounds * 1000
    started = time.perf_counter()
    for _ in range(rounds):
        hasher.verify(stored, "correct horse battery staple")
    verified = (time.perf_counter() - started) / rounds * 1000
    return hashed, verified


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, default=200_000)
    parser.add_argument("--hashes", type=int, default=20)
    args = parser.parse_args()
    check, baseline = per_check_ns(args.checks)
    rows = [{"what": "authorize one command (actor + allowed)", "ns_per_op": round(check),
             "baseline_ns": round(baseline), "vs_baseline": round(check / baseline, 1)}]
    practica = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    low = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
    ours, low_ms = hash_ms(practica, args.hashes), hash_ms(low, args.hashes)
    for label, (hashed, verified) in (("argon2id 19 MiB x2 (Practica)", ours),
                                      ("argon2id 64 MiB x3 (RFC 9106 low-memory)", low_ms)):
        rows.append({"what": label, "hash_ms": round(hashed, 1),
                     "verify_ms": round(verified, 1),
                     "signins_per_core_s": round(1000 / verified),
                     "vs_rfc_low_memory": round(verified / low_ms[1], 2)})
    print(table(rows, ["what", "ns_per_op", "baseline_ns", "vs_baseline", "hash_ms",
                       "verify_ms", "signins_per_core_s", "vs_rfc_low_memory"]))
    print(f"\nwritten to {write_results('auth', vars(args), rows)}")


if __name__ == "__main__":
    main()
