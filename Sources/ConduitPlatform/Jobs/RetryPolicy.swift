import Foundation

/// When a system job whose post failed for an external reason (network, remote bus, timeout) tries again:
/// exponential backoff with full jitter, giving up once a total time since the job was created has passed.
///
/// The bound for retry *n* (n = 1 for the first retry) is `min(maximumDelay, initialDelay × multiplier^(n−1))`;
/// the delay is drawn uniformly from `[minimumDelay, bound]` ("full jitter", so that many jobs that failed together
/// do not retry together). With the defaults the bounds are 5 s, 10 s, 20 s, 40 s, 80 s, 160 s, 320 s, 640 s,
/// 1280 s, 2560 s, then 1 h each, until 24 h after the job was created; then the job fails.
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// The bound of the first retry's delay.
    public var initialDelay: Duration
    /// How much the bound grows per retry.
    public var multiplier: Double
    /// The largest bound.
    public var maximumDelay: Duration
    /// The smallest delay (so that a retry never spins).
    public var minimumDelay: Duration
    /// No retry is scheduled later than this after the job was created: the job fails instead.
    public var giveUpAfter: Duration

    /// The documented default schedule (see the type's description).
    public static let `default` = RetryPolicy(
        initialDelay: .seconds(5),
        multiplier: 2,
        maximumDelay: .seconds(3600),
        minimumDelay: .milliseconds(500),
        giveUpAfter: .seconds(24 * 3600)
    )

    public init(
        initialDelay: Duration,
        multiplier: Double,
        maximumDelay: Duration,
        minimumDelay: Duration = .milliseconds(500),
        giveUpAfter: Duration
    ) {
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.minimumDelay = minimumDelay
        self.giveUpAfter = giveUpAfter
    }

    /// Checks that the policy can work; the error says which value is wrong.
    public func validate() throws(PlatformError) {
        func fail(_ text: String) -> PlatformError { PlatformError(.invalidArgument, "Invalid retry policy: \(text)") }
        guard initialDelay > .zero else { throw fail("the initial delay must be positive.") }
        guard multiplier >= 1, multiplier.isFinite else { throw fail("the multiplier must be at least 1.") }
        guard maximumDelay >= initialDelay else { throw fail("the maximum delay must be at least the initial delay.") }
        guard minimumDelay >= .zero, minimumDelay <= initialDelay else {
            throw fail("the minimum delay must be between 0 and the initial delay.")
        }
        guard giveUpAfter >= .zero else { throw fail("the give-up time must not be negative.") }
    }

    /// The upper bound of the delay before retry `retry` (1 for the first retry).
    public func bound(forRetry retry: Int) -> Duration {
        let exponent = Double(max(retry, 1) - 1)
        let seconds = min(
            Self.seconds(maximumDelay),
            Self.seconds(initialDelay) * pow(multiplier, min(exponent, 1000))
        )
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// The delay before retry `retry`, with full jitter from `random` (a number in [0, 1)).
    public func delay(forRetry retry: Int, random: Double) -> Duration {
        let low = Self.seconds(minimumDelay)
        let high = max(Self.seconds(bound(forRetry: retry)), low)
        let seconds = low + (high - low) * min(max(random, 0), 1)
        return .milliseconds(Int64((seconds * 1000).rounded(.down)))
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
