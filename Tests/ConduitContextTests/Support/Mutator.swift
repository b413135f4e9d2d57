import ConduitTestSupport

/// Damages valid inputs in the ways transports and hand edits do.
enum Mutator {
    static func mutate(_ input: [UInt8], using random: inout SeededRandom) -> [UInt8] {
        var bytes = input
        guard !bytes.isEmpty else { return [UInt8.random(in: 0...255, using: &random)] }
        let edits = Int.random(in: 1...4, using: &random)
        for _ in 0..<edits {
            guard !bytes.isEmpty else { break }
            let position = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<7, using: &random) {
            case 0:
                bytes = Array(bytes[..<position])  // truncate
            case 1:
                bytes[position] = UInt8.random(in: 0...255, using: &random)  // replace a byte
            case 2:
                bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)  // flip a bit
            case 3:
                bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)  // insert a byte
            case 4:
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &random))
                bytes.removeSubrange(position..<end)  // delete a run
            case 5:
                let end = min(bytes.count, position + Int.random(in: 1...64, using: &random))
                bytes.insert(contentsOf: bytes[position..<end], at: position)  // duplicate a run
            default:
                // An interesting byte: structure characters and record types.
                let interesting: [UInt8] = [
                    0x00, 0x01, 0x7F, 0x80, 0xFF, 0x22, 0x3C, 0x3E, 0x7B, 0x7D, 0x5B, 0x5D,
                    0x5C, 0x3A, 0x2C, 0x40, 0x41, 0x09, 0x99, 0x9F, 0xA1, 0xB5,
                ]
                bytes[position] = interesting.randomElement(using: &random)!
            }
        }
        return bytes
    }
}
