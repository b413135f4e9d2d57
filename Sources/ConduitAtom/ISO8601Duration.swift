/// An ISO 8601 / XML Schema duration as Service Bus uses it on the wire, e.g. `PT1M`, `P14D`, `PT0.5S`.
///
/// The value is held as a signed count of 100-nanosecond ticks, exactly like .NET's `TimeSpan`, so the Azure
/// "unlimited" value `P10675199DT2H48M5.4775807S` is ``maximum`` (`Int64.max` ticks) and formats back unchanged.
///
/// Parsing accepts the forms the Azure SDKs and the service produce: an optional leading `-`, then `P`, then
/// `nY`, `nM`, `nW`, `nD`, and after `T` the components `nH`, `nM`, `n[.fraction]S`, each at most once and in
/// that order. As .NET's `XmlConvert` does, a year counts as 365 days and a month as 30 days. Only seconds may
/// carry a fraction; digits beyond the seventh (100 ns) are dropped.
///
/// Formatting follows .NET's `XmlConvert.ToString(TimeSpan)`, which is what Azure returns: days, then `T` with
/// hours, minutes and seconds, zero components left out, the fraction trimmed of trailing zeros, zero as `PT0S`.
public struct ISO8601Duration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Ticks (100 ns units) in one second.
    public static let ticksPerSecond: Int64 = 10_000_000
    /// Ticks in one minute.
    public static let ticksPerMinute: Int64 = 60 * ticksPerSecond
    /// Ticks in one hour.
    public static let ticksPerHour: Int64 = 60 * ticksPerMinute
    /// Ticks in one day.
    public static let ticksPerDay: Int64 = 24 * ticksPerHour

    /// The largest duration, `P10675199DT2H48M5.4775807S`; Service Bus uses it to mean "never" / "unlimited".
    public static let maximum = ISO8601Duration(ticks: .max)
    /// The zero duration, `PT0S`.
    public static let zero = ISO8601Duration(ticks: 0)

    /// The signed length in 100-nanosecond ticks.
    public var ticks: Int64

    /// Creates a duration from a count of 100-nanosecond ticks.
    public init(ticks: Int64) {
        self.ticks = ticks
    }

    /// Creates a duration from seconds, clamped to the representable range; NaN gives zero.
    public init(timeInterval seconds: Double) {
        let scaled = (seconds * Double(Self.ticksPerSecond)).rounded()
        if scaled.isNaN {
            self.ticks = 0
        } else if scaled >= Double(Int64.max) {
            self.ticks = .max
        } else if scaled <= Double(Int64.min) {
            self.ticks = .min
        } else {
            self.ticks = Int64(scaled)
        }
    }

    /// Parses an ISO 8601 duration such as `PT1M` or `P10675199DT2H48M5.4775807S`.
    ///
    /// Leading and trailing whitespace is ignored, as XML Schema's whitespace rules require.
    /// - Throws: ``ParseError`` naming what is wrong with the text.
    public init(parsing text: String) throws(ParseError) {
        var parser = ISO8601DurationParser(text: text)
        self.ticks = try parser.parse()
    }

    /// A duration of whole seconds, saturating at the representable range.
    public static func seconds(_ value: Int64) -> ISO8601Duration {
        scaled(value, by: ticksPerSecond)
    }

    /// A duration of whole minutes, saturating at the representable range.
    public static func minutes(_ value: Int64) -> ISO8601Duration {
        scaled(value, by: ticksPerMinute)
    }

    /// A duration of whole hours, saturating at the representable range.
    public static func hours(_ value: Int64) -> ISO8601Duration {
        scaled(value, by: ticksPerHour)
    }

    /// A duration of whole days, saturating at the representable range.
    public static func days(_ value: Int64) -> ISO8601Duration {
        scaled(value, by: ticksPerDay)
    }

    /// The length in seconds.
    public var timeInterval: Double {
        Double(ticks) / Double(Self.ticksPerSecond)
    }

    /// The length as a Swift `Duration`.
    public var duration: Duration {
        let seconds = ticks / Self.ticksPerSecond
        let remainder = ticks % Self.ticksPerSecond
        return .seconds(seconds) + .nanoseconds(remainder * 100)
    }

    /// Whether this is ``maximum``, Azure's "unlimited".
    public var isMaximum: Bool {
        ticks == .max
    }

    /// The ISO 8601 text in the form Azure returns, e.g. `PT1M`, `P14D`, `PT0.5S`.
    public var description: String {
        if ticks == 0 {
            return "PT0S"
        }
        var magnitude = ticks.magnitude
        let days = magnitude / UInt64(Self.ticksPerDay)
        magnitude %= UInt64(Self.ticksPerDay)
        let hours = magnitude / UInt64(Self.ticksPerHour)
        magnitude %= UInt64(Self.ticksPerHour)
        let minutes = magnitude / UInt64(Self.ticksPerMinute)
        magnitude %= UInt64(Self.ticksPerMinute)
        let seconds = magnitude / UInt64(Self.ticksPerSecond)
        let fraction = magnitude % UInt64(Self.ticksPerSecond)

        var text = ticks < 0 ? "-P" : "P"
        if days > 0 {
            text += "\(days)D"
        }
        if hours > 0 || minutes > 0 || seconds > 0 || fraction > 0 {
            text += "T"
            if hours > 0 {
                text += "\(hours)H"
            }
            if minutes > 0 {
                text += "\(minutes)M"
            }
            if seconds > 0 || fraction > 0 {
                text += "\(seconds)"
                if fraction > 0 {
                    var digits = String(fraction)
                    digits = String(repeating: "0", count: 7 - digits.count) + digits
                    while digits.hasSuffix("0") {
                        digits.removeLast()
                    }
                    text += "." + digits
                }
                text += "S"
            }
        }
        return text
    }

    /// Orders durations by length.
    public static func < (lhs: ISO8601Duration, rhs: ISO8601Duration) -> Bool {
        lhs.ticks < rhs.ticks
    }

    private static func scaled(_ value: Int64, by factor: Int64) -> ISO8601Duration {
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        if overflow {
            return ISO8601Duration(ticks: value < 0 ? .min : .max)
        }
        return ISO8601Duration(ticks: product)
    }
}

extension ISO8601Duration {
    /// Why a text is not a valid ISO 8601 duration.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The text that was parsed.
        public var input: String
        /// What is wrong with it, e.g. "unexpected character 'X' at offset 3".
        public var reason: String

        /// Creates a parse error.
        public init(input: String, reason: String) {
            self.input = input
            self.reason = reason
        }

        /// A sentence naming the input and the problem.
        public var description: String {
            "'\(input)' is not a valid ISO 8601 duration: \(reason)"
        }
    }
}
