import Metrics

/// What the asynchronous service counts, through swift-metrics (a server exports them to Prometheus): finished runs
/// by what became of the job, and how long runs took.
struct JobMetrics: Sendable {
    let succeeded: Counter
    let waiting: Counter
    let failed: Counter
    let lost: Counter
    let runDuration: Timer

    init(factory: any MetricsFactory) {
        func finished(_ status: String) -> Counter {
            Counter(label: "conduit_job_runs_total", dimensions: [("outcome", status)], factory: factory)
        }
        succeeded = finished("succeeded")
        waiting = finished("retry")
        failed = finished("failed")
        lost = finished("lost")
        runDuration = Timer(label: "conduit_job_run_duration_seconds", dimensions: [], factory: factory)
    }

    /// Counts one finished run: `nil` when another node took the job meanwhile.
    func record(_ status: JobStatus?, seconds: Double?) {
        switch status {
        case .succeeded?: succeeded.increment()
        case .waiting?: waiting.increment()
        case .failed?, .canceled?: failed.increment()
        case nil: lost.increment()
        default: break
        }
        if let seconds, seconds >= 0 { runDuration.recordNanoseconds(Int64(seconds * 1e9)) }
    }
}
