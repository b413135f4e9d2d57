import Foundation

/// A latency plot as SVG, with no outside assets: each update as a dot (seconds into the run, latency on a log
/// scale), and the p50 and p99 of each second as lines.
struct LatencyPlot {
    var title: String
    /// (seconds into the run, latency in ms).
    var points: [(Double, Double)]

    var svg: String {
        let (width, height) = (900.0, 420.0)
        let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0)
        let seconds = max(points.map(\.0).max() ?? 1, 1)
        let highest = max(points.map(\.1).max() ?? 1, 1)
        let low = 0.1
        let high = pow(10, ceil(log10(highest)))
        func x(_ t: Double) -> Double { left + t / seconds * (width - left - right) }
        func y(_ ms: Double) -> Double {
            let value = log10(max(ms, low))
            let span = log10(high) - log10(low)
            return top + (1 - (value - log10(low)) / span) * (height - top - bottom)
        }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="20" text-anchor="middle" font-size="14">\(Self.escape(title))</text>

            """
        var tick = low
        while tick <= high {
            out +=
                "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(tick)))\" y2=\"\(f(y(tick)))\" stroke=\"#ddd\"/>"
            out +=
                "<text x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\">\(tick < 1 ? String(tick) : String(Int(tick))) ms</text>\n"
            tick *= 10
        }
        let step = max(1, Int(seconds / 10))
        for second in stride(from: 0, through: Int(seconds), by: step) {
            out +=
                "<text x=\"\(f(x(Double(second))))\" y=\"\(f(height - bottom + 18))\" text-anchor=\"middle\">\(second) s</text>\n"
        }
        // At most 4,000 dots: every n-th point.
        let stride = max(1, points.count / 4_000)
        for (index, point) in points.enumerated() where index % stride == 0 {
            out +=
                "<circle cx=\"\(f(x(point.0)))\" cy=\"\(f(y(point.1)))\" r=\"1.2\" fill=\"#4a90d9\" fill-opacity=\"0.35\"/>"
        }
        out += "\n"
        var perSecond: [Int: [Double]] = [:]
        for point in points { perSecond[Int(point.0), default: []].append(point.1) }
        for (quantile, color) in [(0.5, "#2a7a2a"), (0.99, "#c0392b")] {
            let line = perSecond.keys.sorted().map { second -> String in
                let values = perSecond[second, default: []].sorted()
                let value = values[min(values.count - 1, Int(Double(values.count) * quantile))]
                return "\(f(x(Double(second) + 0.5))),\(f(y(value)))"
            }
            out +=
                "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
        }
        out += """
            <text x="\(f(width - right))" y="\(f(top - 6))" text-anchor="end"><tspan fill="#2a7a2a">p50</tspan> <tspan fill="#c0392b">p99</tspan> per second; dots: each update</text>
            <text x="\(f(left + (width - left - right) / 2))" y="\(f(height - 10))" text-anchor="middle">time into the run (update answered)</text>
            </svg>

            """
        return out
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
