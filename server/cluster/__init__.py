"""Several processes as one: the Redis bus, feed, leases, presence, janitor,
scheduler and relay (each falls back to this process alone)."""
