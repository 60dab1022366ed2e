"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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

    def watch_queues(self, depths: Callable[[], list[int]]) -> None:
        self.send_queue_depth.set_function(lambda: float(sum(depths())))
        self.send_queue_max.set_function(lambda: float(max(depths(), default=0)))

    def watch_dependency(self, dependency: str, down: Callable[[], bool]) -> None:
        self.degraded.labels(dependency).set_function(lambda: float(down()))
