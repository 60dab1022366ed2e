"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Watched(Protocol):
    """A projector, as metrics see it."""

    @property
    def name(self) -> str: ...
    @property
    def lag(self) -> int: ...
    @property
    def failing(self) -> int: ...


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("practica_open_connections", "Open websocket connections",
                                 registry=r)
        self.events_appended = Counter("practica_events_appended", "Events made durable",
                                       registry=r)
        self.append_latency = Histogram(
            "practica_append_latency_seconds", "From append request to durable commit",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0), registry=r)
        self.send_queue_depth = Gauge("practica_send_queue_frames",
                                      "Frames waiting in all connections' send queues",
                                      registry=r)
        self.send_queue_max = Gauge("practica_send_queue_max_frames",
                                    "The deepest connection send queue", registry=r)
        self.slow_consumers = Counter("practica_slow_consumers_dropped",
                                      "Connections closed for reading too slowly", registry=r)
        self.degraded = Gauge("practica_degraded",
                              "1 while a dependency is unreachable and this process runs "
                              "degraded (redis) or refuses changes (store)",
                              ["dependency"], registry=r)
        self.commands = Counter("practica_commands", "Commands handled",
                                ["type", "outcome"], registry=r)

        self.projection_lag = Gauge(
            "practica_projection_lag_events",
            "Committed events a projection has not applied yet (as this process knows)",
            ["projection"], registry=r)
        self.projection_failing = Gauge(
            "practica_projection_failing_streams",
            "Streams whose projection apply failed and is being retried with backoff",
            ["projection"], registry=r)

    def watch_projection(self, projector: Watched) -> None:
        self.projection_lag.labels(projector.name).set_function(
            lambda: float(projector.lag))
        self.projection_failing.labels(projector.name).set_function(
            lambda: float(projector.failing))

    def watch_queues(self, depths: Callable[[], list[int]]) -> None:
        self.send_queue_depth.set_function(lambda: float(sum(depths())))
        self.send_queue_max.set_function(lambda: float(max(depths(), default=0)))

    def watch_dependency(self, dependency: str, down: Callable[[], bool]) -> None:
        self.degraded.labels(dependency).set_function(lambda: float(down()))
