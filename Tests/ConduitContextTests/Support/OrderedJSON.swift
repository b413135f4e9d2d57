import Foundation

/// A JSON document tree that keeps member order, for comparing documents structurally in tests. Independent of the
/// codec under test (built on Foundation's scanner-free parsing of its own).
indirect enum OrderedJSON: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    static func == (lhs: OrderedJSON, rhs: OrderedJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .number(let n): return n
        case .string(let s): return "\"\(s)\""
        case .array(let items): return "[" + items.map(\.description).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        }
    }

    /// The first difference between two documents, as a path, or `nil` when equal.
    static func difference(_ a: OrderedJSON, _ b: OrderedJSON, path: String = "$") -> String? {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for (index, (left, right)) in zip(x, y).enumerated() {
                if left.0 != right.0 { return "\(path): member \(index) is \"\(left.0)\" vs \"\(right.0)\"" }
                if let d = difference(left.1, right.1, path: path + "." + left.0) { return d }
            }
            if x.count != y.count { return "\(path): \(x.count) members vs \(y.count): \(x.map(\.0)) vs \(y.map(\.0))" }
            return nil
        case (.array(let x), .array(let y)):
            for (index, (left, right)) in zip(x, y).enumerated() {
                if let d = difference(left, right, path: path + "[\(index)]") { return d }
            }
            if x.count != y.count { return "\(path): \(x.count) items vs \(y.count)" }
            return nil
        default:
            return a == b ? nil : "\(path): \(a) vs \(b)"
        }
    }

    struct ParseError: Error {}

    static func parse(_ bytes: [UInt8]) throws -> OrderedJSON {
        var parser = Parser(bytes: bytes)
        let value = try parser.value()
        parser.skip()
        guard parser.index == bytes.count else { throw ParseError() }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func skip() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func value() throws -> OrderedJSON {
            skip()
            guard index < bytes.count else { throw ParseError() }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, OrderedJSON)] = []
                skip()
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                while true {
                    skip()
                    guard case .string(let key) = try value() else { throw ParseError() }
                    skip()
                    guard bytes[index] == UInt8(ascii: ":") else { throw ParseError() }
                    index += 1
                    members.append((key, try value()))
                    skip()
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard bytes[index] == UInt8(ascii: "}") else { throw ParseError() }
                    index += 1
                    return .object(members)
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [OrderedJSON] = []
                skip()
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                while true {
                    items.append(try value())
                    skip()
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    guard bytes[index] == UInt8(ascii: "]") else { throw ParseError() }
                    index += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                // Let Foundation decode the string literal (escapes included).
                let start = index
                index += 1
                while bytes[index] != UInt8(ascii: "\"") { index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1 }
                index += 1
                let literal = Data(bytes[start..<index])
                let decoded = try JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed)
                guard let text = decoded as? String else { throw ParseError() }
                return .string(text)
            case UInt8(ascii: "t"):
                index += 4
                return .bool(true)
            case UInt8(ascii: "f"):
                index += 5
                return .bool(false)
            case UInt8(ascii: "n"):
                index += 4
                return .null
            default:
                let start = index
                while index < bytes.count, !",]} \n\r\t".utf8.contains(bytes[index]) { index += 1 }
                return .number(String(decoding: bytes[start..<index], as: UTF8.self))
            }
        }
    }
}
