from server.ratelimit import TokenBucket


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
