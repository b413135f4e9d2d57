/// Percent-decoding of query string components as browsers and HTTP clients send them: `%XX` is a byte, `+` is a
/// space, and the bytes must form UTF-8.
enum ODataPercentDecoding {
    /// Decodes `raw`. Errors carry `option` and begin their message with `label`; positions count characters of `raw`.
    static func decode(_ raw: Substring, option: String, label: String) throws(ODataQueryError) -> String {
        let scalars = Array(raw.unicodeScalars)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count)
        // For each decoded byte, the position of the character it came from, to place UTF-8 errors.
        var origins: [Int] = []
        origins.reserveCapacity(scalars.count)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "%" {
                guard index + 2 < scalars.count, let high = hexValue(scalars[index + 1]),
                    let low = hexValue(scalars[index + 2])
                else {
                    let end = min(scalars.count, index + 3)
                    var sequence = String.UnicodeScalarView()
                    sequence.append(contentsOf: scalars[index..<end])
                    throw ODataQueryError(
                        option: option,
                        position: index,
                        message: "\(label): malformed percent-encoding '\(String(sequence))' at position \(index)"
                    )
                }
                bytes.append(high << 4 | low)
                origins.append(index)
                index += 3
            } else if scalar == "+" {
                bytes.append(0x20)
                origins.append(index)
                index += 1
            } else {
                for byte in scalar.utf8 {
                    bytes.append(byte)
                    origins.append(index)
                }
                index += 1
            }
        }
        if let invalid = firstInvalidUTF8(bytes) {
            let position = origins[invalid]
            throw ODataQueryError(
                option: option,
                position: position,
                message: "\(label): the percent-encoded bytes at position \(position) are not UTF-8"
            )
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The offset of the first byte that does not start a valid UTF-8 sequence, or nil when all of them are valid.
    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt8? {
        switch scalar {
        case "0"..."9": UInt8(scalar.value - 0x30)
        case "A"..."F": UInt8(scalar.value - 0x41 + 10)
        case "a"..."f": UInt8(scalar.value - 0x61 + 10)
        default: nil
        }
    }
}
