import ConduitBus
import ConduitPlatform
import ConduitStore
import Foundation
import Metrics
import Prometheus
import SQLKit

/// A server's metrics in the Prometheus text format (`GET /metrics`): what its parts count and time through
/// swift-metrics (job runs, posts, HTTP requests), and gauges read from the database at each scrape (system jobs by
/// status, messages per entity and state, dead letters) and from the AMQP server (open connections).
public struct ServerMetrics: Sendable {
    /// This server's registry (one per server, so that several in one process keep theirs apart).
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory the server's parts record through.
    public let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // From a tenth of a millisecond (a post to the embedded bus) to a minute (a post's timeout).
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60),
        ]
        self.factory = factory
    }

    /// Reads the gauges and returns every metric as text.
    func scrape(platform: Platform, bus: BusNamespace, amqpConnections: Int?) async throws -> String {
        let rows = try await platform.store.withDatabase { db in
            try await db.raw("SELECT statuscode, COUNT(*) AS n FROM asyncoperation GROUP BY statuscode").all().map {
                (try $0.decode(column: "statuscode", as: Int.self), try $0.decode(column: "n", as: Int.self))
            }
        }
        let counts = Dictionary(rows, uniquingKeysWith: +)
        for status in JobStatus.allCases {
            registry.makeGauge(
                name: "conduit_jobs",
                labels: [("status", status.description)],
                help: "System jobs by status."
            ).set(Double(counts[Int(status.statusCode)] ?? 0))
        }
        var deadLetters = 0
        for source in try await bus.messageSources() {
            let counts = source.counts
            deadLetters += counts.deadLettered
            for (state, value) in [
                ("active", counts.active), ("scheduled", counts.scheduled), ("deadlettered", counts.deadLettered),
            ] {
                registry.makeGauge(
                    name: "conduit_bus_messages",
                    labels: [("entity", source.path), ("kind", source.kind), ("state", state)],
                    help: "Messages in the embedded bus by entity and state."
                ).set(Double(value))
            }
        }
        registry.makeGauge(name: "conduit_bus_dead_letters", help: "Dead-lettered messages in the embedded bus.")
            .set(Double(deadLetters))
        if let amqpConnections {
            registry.makeGauge(name: "conduit_amqp_connections", help: "Open AMQP connections (TCP and WebSocket).")
                .set(Double(amqpConnections))
            registry.makeGauge(
                name: "conduit_amqp_links",
                help: "Attached AMQP links (senders, receivers, $cbs and $management) on the embedded bus."
            ).set(Double(bus.amqpLinkCount))
        }
        return registry.emitToString()
    }
}
