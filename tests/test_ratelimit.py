"""Rate limits: per-connection token buckets, and attempts counted before the work."""

import asyncio

import pytest

from server.ratelimit import LocalAttempts, RedisAttempts, TokenBucket, address_key


def test_bucket_allows_burst_then_refuses_with_wait_then_refills():
    bucket = TokenBucket(rate_per_minute=60, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0, 0, 0]
    wait = bucket.take(0.0)
    assert 900 <= wait <= 1000 and bucket.strikes == 1
    assert bucket.take(0.5) > 0 and bucket.strikes == 2
    assert bucket.take(1.01) == 0 and bucket.strikes == 0


def test_bucket_never_holds_more_than_burst():
    bucket = TokenBucket(rate_per_minute=6000, burst=2, now=0.0)
    assert [bucket.take(1000.0) for _ in range(3)][:2] == [0, 0]
    assert bucket.take(1000.0) > 0


# --- attempts: reserved atomically before the work they limit --------------------


@pytest.fixture(params=["local", "redis"])
async def attempts(request):
    if request.param == "local":
        yield LocalAttempts()
        return
    import redis.asyncio as aioredis

    from tests.pg import REDIS_URL, drop_redis_prefix, redis_prefix

    prefix = redis_prefix()  # this test's own keys: no FLUSHDB of a shared database
    await drop_redis_prefix(prefix)  # fails loudly if Redis is not there
    redis = aioredis.Redis.from_url(REDIS_URL)
    yield RedisAttempts(redis, prefix=prefix)
    await redis.aclose()
    await drop_redis_prefix(prefix)


@pytest.mark.anyio
async def test_concurrent_reservations_never_pass_the_limit(attempts):
    granted = await asyncio.gather(*(attempts.reserve("k", 5, 900, 1000.0)
                                     for _ in range(25)))
    assert granted.count(True) == 5
    assert await attempts.count("k", 900, 1000.0) == 5  # refused ones are not counted
    assert await attempts.reserve("other", 5, 900, 1000.0)  # keys are apart


@pytest.mark.anyio
async def test_a_released_reservation_frees_its_place_and_never_goes_below_zero(attempts):
    assert await attempts.reserve("k", 1, 900, 1000.0)
    assert not await attempts.reserve("k", 1, 900, 1000.0)
    await attempts.release("k")
    await attempts.release("k")
    assert await attempts.count("k", 900, 1000.0) == 0
    assert await attempts.reserve("k", 1, 900, 1000.0)
    assert not await attempts.reserve("k", 1, 900, 1000.0)
    await attempts.clear("k")
    assert await attempts.reserve("k", 1, 900, 1000.0)


@pytest.mark.anyio
async def test_reservations_expire_with_their_window():
    local = LocalAttempts()
    assert await local.reserve("k", 1, 60, 1000.0)
    assert not await local.reserve("k", 1, 60, 1059.0)
    assert await local.reserve("k", 1, 60, 1061.0)


@pytest.mark.anyio
async def test_redis_reservations_carry_the_window_as_expiry():
    import redis.asyncio as aioredis

    from tests.pg import REDIS_URL

    redis = aioredis.Redis.from_url(REDIS_URL)
    try:
        attempts = RedisAttempts(redis, prefix="t-expiry")
        assert await attempts.reserve("k", 3, 900, 0.0)
        assert 0 < await redis.ttl("t-expiry:attempts:k") <= 900
        await attempts.release("k")  # the key outlives a release, still with its expiry
        assert 0 < await redis.ttl("t-expiry:attempts:k") <= 900
    finally:
        await redis.delete("t-expiry:attempts:k")
        await redis.aclose()


def test_addresses_are_limited_as_ipv4_hosts_and_ipv6_64s():
    assert address_key("203.0.113.9") == "203.0.113.9"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert address_key("?") == "?"
