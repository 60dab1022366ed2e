"""A token bucket per connection (pure: the caller passes the clock)."""

from __future__ import annotations


class TokenBucket:
    """``rate_per_minute`` tokens a minute, holding at most ``burst``.

    ``take(now)`` returns 0 when a token was taken, else the milliseconds to
    wait for one. ``strikes`` counts refusals since the last success, so a
    client that ignores ``rate_limited`` can be told apart and disconnected.
    """

    __slots__ = ("burst", "last", "rate", "strikes", "tokens")

    def __init__(self, rate_per_minute: int, burst: int, now: float) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = now
        self.strikes = 0

    def take(self, now: float) -> int:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            self.strikes = 0
            return 0
        self.strikes += 1
        return max(1, int((1.0 - self.tokens) / self.rate * 1000))
