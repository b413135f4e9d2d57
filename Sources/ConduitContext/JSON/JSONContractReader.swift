/// Reads the `DataContractJsonSerializer` form straight into the model: any whitespace, `/` escaped or not,
/// members in any order, `"__type"` honoured when it is the first member.
struct JSONContractReader: ContractReader {
    private let input: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0
    private let limits: DecodingLimits
    /// Per open container: whether an element has been read (so the next needs a comma).
    private var hasElements: [Bool] = []
    /// A member name read ahead while looking for `__type`.
    private var pendingKey: String?
    /// `beginContract` met `{}`: the object is already closed.
    private var closedEmptyObject = false
    private(set) var currentMemberName = ""

    init(input: UnsafeRawBufferPointer, limits: DecodingLimits) {
        self.input = input
        self.limits = limits
        hasElements.reserveCapacity(16)
    }

    func error(_ message: String) -> ContextCodingError {
        error(message, at: index)
    }

    func error(_ message: String, at offset: Int) -> ContextCodingError {
        let position = ContextCodingError.locate(offset, in: input)
        return ContextCodingError(
            format: .json,
            offset: offset,
            line: position.line,
            column: position.column,
            message: message
        )
    }

    // MARK: - Top level

    mutating func readDocument() throws(ContextCodingError) -> RemoteExecutionContext {
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { index = 3 }
        guard try beginContract() else { throw error("the body is null, not a RemoteExecutionContext object") }
        let context = try readContext()
        skipWhitespace()
        guard index == input.count else { throw error("unexpected \(describeCurrent()) after the end of the object") }
        return context
    }

    // MARK: - ContractReader

    /// Opens `opener` (`{` or `[`) or reads `null` (returning `false`).
    private mutating func openOrNull(_ opener: UInt8, expected: String) throws(ContextCodingError) -> Bool {
        skipWhitespace()
        guard index < input.count else { throw error("the input ends where \(expected) was expected") }
        switch input[index] {
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return false
        case opener:
            try open()
            return true
        default:
            throw error("expected \(expected) or null, found \(describeCurrent())")
        }
    }

    mutating func beginContract() throws(ContextCodingError) -> Bool {
        guard try openOrNull(UInt8(ascii: "{"), expected: "an object") else { return false }
        // A leading "__type" on a declared slot is accepted and ignored.
        if let key = try readKey() {
            if key == "__type" {
                _ = try readStringToken()
            } else {
                pendingKey = key
            }
        } else {
            closedEmptyObject = true
        }
        return true
    }

    mutating func nextMember() throws(ContextCodingError) -> String? {
        if closedEmptyObject {
            closedEmptyObject = false
            return nil
        }
        if let key = pendingKey {
            pendingKey = nil
            currentMemberName = key
            return key
        }
        guard let key = try readKey() else { return nil }
        currentMemberName = key
        return key
    }

    mutating func beginCollection() throws(ContextCodingError) -> Bool {
        try openOrNull(UInt8(ascii: "["), expected: "an array")
    }

    mutating func nextItem() throws(ContextCodingError) -> Bool {
        guard try continueContainer(closer: UInt8(ascii: "]"), what: "an array") else { return false }
        hasElements[hasElements.count - 1] = true
        return true
    }

    /// At the next element of the open container: consumes its closer (returning `false`) or, after the first
    /// element, the separating comma.
    private mutating func continueContainer(closer: UInt8, what: String) throws(ContextCodingError) -> Bool {
        skipWhitespace()
        guard index < input.count else { throw error("the input ends inside \(what)") }
        if input[index] == closer {
            index += 1
            close()
            return false
        }
        if hasElements[hasElements.count - 1] {
            guard input[index] == UInt8(ascii: ",") else {
                throw error(
                    "expected ',' or '\(Character(Unicode.Scalar(closer)))' in \(what), found \(describeCurrent())"
                )
            }
            index += 1
            skipWhitespace()
        }
        return true
    }

    mutating func readString() throws(ContextCodingError) -> String? {
        skipWhitespace()
        if index < input.count, input[index] == UInt8(ascii: "n") {
            try expectLiteral("null")
            return nil
        }
        return try readStringToken()
    }

    mutating func readBool() throws(ContextCodingError) -> Bool {
        skipWhitespace()
        guard index < input.count else { throw error("the input ends where true or false was expected") }
        if input[index] == UInt8(ascii: "t") {
            try expectLiteral("true")
            return true
        }
        if input[index] == UInt8(ascii: "f") {
            try expectLiteral("false")
            return false
        }
        throw error("\(currentMemberName) must be true or false, found \(describeCurrent())")
    }

    mutating func readInt32() throws(ContextCodingError) -> Int32 {
        let start = index
        let number = try readNumberToken()
        guard !number.isFloating, let value = Int32(number.text) else {
            throw error("\(currentMemberName) must be a 32-bit integer, found \(number.text)", at: start)
        }
        return value
    }

    mutating func readGuid() throws(ContextCodingError) -> Guid? {
        let start = index
        guard let text = try readString() else { return nil }
        guard let guid = Guid(text) else {
            throw error("\(currentMemberName) must be a GUID, found \"\(text)\"", at: start)
        }
        return guid
    }

    mutating func readDateTime() throws(ContextCodingError) -> DotNetDateTime {
        let start = index
        guard let text = try readString() else { throw error("\(currentMemberName) must be a date, not null") }
        guard let date = JSONDate.parse(text) else {
            throw error(
                "\(currentMemberName) must be a date like \"\\/Date(1506409448000-0700)\\/\", found \"\(text)\"",
                at: start
            )
        }
        return date
    }

    mutating func readDecimal() throws(ContextCodingError) -> DotNetDecimal {
        let start = index
        let number = try readNumberToken()
        guard let value = DotNetDecimal(number.text) ?? JSONNumber.decimalFromExponent(number.text) else {
            throw error("\(currentMemberName) must be a decimal number, found \(number.text)", at: start)
        }
        return value
    }

    mutating func readEnum(names: (String) -> Int32?) throws(ContextCodingError) -> Int32? {
        skipWhitespace()
        if index < input.count, input[index] == UInt8(ascii: "n") {
            try expectLiteral("null")
            return nil
        }
        if index < input.count, input[index] == UInt8(ascii: "\"") {
            let start = index
            let text = try readStringToken()
            guard let value = names(text) else {
                throw error("unknown \(currentMemberName) value \"\(text)\"", at: start)
            }
            return value
        }
        return try readInt32()
    }

    mutating func readValue() throws(ContextCodingError) -> ContextValue {
        skipWhitespace()
        guard index < input.count else { throw error("the input ends where a value was expected") }
        switch input[index] {
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .boolean(try readBool())
        case UInt8(ascii: "\""):
            let text = try readStringToken()
            if let date = JSONDate.parse(text) { return .dateTime(date) }
            return .string(text)
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            return .double(try readNonFiniteToken())
        case UInt8(ascii: "-") where index + 1 < input.count && input[index + 1] == UInt8(ascii: "I"):
            return .double(try readNonFiniteToken())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = index
            let number = try readNumberToken()
            guard let value = JSONNumber.objectValue(number) else {
                throw error("the number \(number.text) is out of range", at: start)
            }
            return value
        case UInt8(ascii: "{"):
            return try readObjectValue()
        case UInt8(ascii: "["):
            return try readArrayValue()
        default:
            throw error("expected a value, found \(describeCurrent())")
        }
    }

    mutating func readExtension() throws(ContextCodingError) -> ExtensionMember {
        ExtensionMember(name: currentMemberName, value: try readExtensionValue())
    }

    // MARK: - Polymorphic values

    private mutating func readObjectValue() throws(ContextCodingError) -> ContextValue {
        try open()
        guard let firstKey = try readKey() else {
            return .unknown(UnknownValue(type: nil, content: .object(type: nil, members: [])))
        }
        if firstKey == "__type" {
            let hintStart = index
            let hint = try readStringToken()
            guard !hint.isEmpty else { throw error("__type must not be empty", at: hintStart) }
            let type = ContractName(jsonTypeHint: hint)
            if let known = try readKnownContract(type) { return known }
            return .unknown(UnknownValue(type: type, content: .object(type: type, members: try readRemainingMembers())))
        }
        // No type hint: an SDK contract written with its declared type (the items of a typed array), recognised by
        // its first member and that member's value, as the serializer writes members in order.
        skipWhitespace()
        let shape = JSONShape(firstKey: firstKey, valueStart: index < input.count ? input[index] : 0)
        pendingKey = firstKey
        switch shape {
        case .entity: return .entity(try readEntityMembers())
        case .entityReference: return .entityReference(try readEntityReferenceMembers())
        case .optionSetValue: return .optionSetValue(try readOptionSetValueMembers())
        case .none:
            return .unknown(UnknownValue(type: nil, content: .object(type: nil, members: try readRemainingMembers())))
        }
    }

    private mutating func readArrayValue() throws(ContextCodingError) -> ContextValue {
        _ = try beginCollection()
        var items: [ContextValue] = []
        var typedItems = false
        while try nextItem() {
            skipWhitespace()
            if index < input.count, input[index] == UInt8(ascii: "{") {
                let saved = (index, depth, hasElements)
                try open()
                if let key = try readKey(), key == "__type" { typedItems = true }
                (index, depth, hasElements) = saved
            }
            items.append(try readValue())
        }
        if !typedItems, !items.isEmpty {
            if items.allSatisfy({ if case .entity = $0 { true } else { false } }) {
                return .array(ContextArray(itemType: .entity, items: items))
            }
            let references = items.compactMap { value -> EntityReference? in
                if case .entityReference(let reference) = value { reference } else { nil }
            }
            if references.count == items.count { return .entityReferenceCollection(references) }
            let options = items.compactMap { value -> OptionSetValue? in
                if case .optionSetValue(let option) = value { option } else { nil }
            }
            if options.count == items.count { return .optionSetValueCollection(options) }
        }
        return .array(ContextArray(itemType: .anyType, items: items))
    }

    /// Reads the rest of an object as unknown members.
    private mutating func readRemainingMembers() throws(ContextCodingError) -> [ExtensionMember] {
        var members: [ExtensionMember] = []
        while let name = try nextMember() {
            members.append(ExtensionMember(name: name, value: try readExtensionValue()))
        }
        return members
    }

    private mutating func readExtensionValue() throws(ContextCodingError) -> ExtensionValue {
        skipWhitespace()
        guard index < input.count else { throw error("the input ends where a value was expected") }
        switch input[index] {
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .boolean(try readBool())
        case UInt8(ascii: "\""):
            return .string(try readStringToken())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try readNumberToken().text)
        case UInt8(ascii: "{"):
            try open()
            var type: ContractName?
            var members: [ExtensionMember] = []
            var first = true
            while let key = try readKey() {
                if first, key == "__type" {
                    type = ContractName(jsonTypeHint: try readStringToken())
                } else {
                    members.append(ExtensionMember(name: key, value: try readExtensionValue()))
                }
                first = false
            }
            return .object(type: type, members: members)
        case UInt8(ascii: "["):
            try open()
            var items: [ExtensionValue] = []
            while try nextItem() { items.append(try readExtensionValue()) }
            return .array(items)
        default:
            throw error("expected a value, found \(describeCurrent())")
        }
    }

    // MARK: - Tokens

    private mutating func open() throws(ContextCodingError) {
        depth += 1
        guard depth <= limits.maximumDepth else {
            throw error("nesting deeper than \(limits.maximumDepth) levels")
        }
        index += 1
        hasElements.append(false)
    }

    private mutating func close() {
        depth -= 1
        hasElements.removeLast()
    }

    /// Reads `"key":` of the current object, or its closing `}` (returning `nil`).
    private mutating func readKey() throws(ContextCodingError) -> String? {
        guard try continueContainer(closer: UInt8(ascii: "}"), what: "an object") else { return nil }
        guard index < input.count, input[index] == UInt8(ascii: "\"") else {
            throw error("expected a member name in quotes, found \(describeCurrent())")
        }
        let key = try readStringToken()
        skipWhitespace()
        guard index < input.count, input[index] == UInt8(ascii: ":") else {
            throw error("expected ':' after the member name \"\(key)\", found \(describeCurrent())")
        }
        index += 1
        hasElements[hasElements.count - 1] = true
        return key
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < input.count {
            switch input[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(ContextCodingError) {
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            index + count <= input.count && (0..<count).allSatisfy { input[index + $0] == expected[$0] }
        }
        guard matches else { throw error("expected \(literal), found \(describeCurrent())") }
        index += count
    }

    private mutating func readStringToken() throws(ContextCodingError) -> String {
        skipWhitespace()
        guard index < input.count, input[index] == UInt8(ascii: "\"") else {
            throw error(
                "\(currentMemberName.isEmpty ? "a value" : currentMemberName) must be a string, found \(describeCurrent())"
            )
        }
        let start = index
        index += 1
        let contentStart = index
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeRawBufferPointer(rebasing: input[contentStart..<index])
                index += 1
                guard let text = String(validating: content, as: UTF8.self) else {
                    throw error("the string is not valid UTF-8", at: start)
                }
                return text
            }
            if byte == UInt8(ascii: "\\") { return try readEscapedString(start: start, contentStart: contentStart) }
            if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) inside a string") }
            index += 1
        }
        throw error("the string that starts here is not closed", at: start)
    }

    private mutating func readEscapedString(start: Int, contentStart: Int) throws(ContextCodingError) -> String {
        var bytes = [UInt8](UnsafeRawBufferPointer(rebasing: input[contentStart..<index]))
        while index < input.count {
            let byte = input[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw error("the string is not valid UTF-8", at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                guard index + 1 < input.count else { break }
                let escape = input[index + 1]
                index += 2
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard index + 1 < input.count, input[index] == UInt8(ascii: "\\"),
                            input[index + 1] == UInt8(ascii: "u")
                        else { throw error("a \\u high surrogate is not followed by a low surrogate") }
                        index += 2
                        let low = try readHex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw error("a \\u high surrogate is not followed by a low surrogate")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("a lone \\u low surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    bytes.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))' in a string", at: index - 2)
                }
                continue
            default:
                if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) inside a string") }
                bytes.append(byte)
                index += 1
                continue
            }
            break
        }
        throw error("the string that starts here is not closed", at: start)
    }

    private mutating func readHex4() throws(ContextCodingError) -> UInt32 {
        guard index + 4 <= input.count else { throw error("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for offset in 0..<4 {
            guard let nibble = Guid.hexValue(input[index + offset]) else {
                throw error("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(nibble)
        }
        index += 4
        return value
    }

    private mutating func readNumberToken() throws(ContextCodingError) -> JSONNumber {
        skipWhitespace()
        let start = index
        var floating = false
        if index < input.count, input[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        while index < input.count, input[index] >= UInt8(ascii: "0"), input[index] <= UInt8(ascii: "9") { index += 1 }
        guard index > integerStart else {
            index = start
            throw error(
                "\(currentMemberName.isEmpty ? "a value" : currentMemberName) must be a number, found \(describeCurrent())"
            )
        }
        if index < input.count, input[index] == UInt8(ascii: ".") {
            floating = true
            index += 1
            let fractionStart = index
            while index < input.count, input[index] >= UInt8(ascii: "0"), input[index] <= UInt8(ascii: "9") {
                index += 1
            }
            guard index > fractionStart else { throw error("a number needs digits after its decimal point") }
        }
        if index < input.count, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
            floating = true
            index += 1
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") {
                index += 1
            }
            let exponentStart = index
            while index < input.count, input[index] >= UInt8(ascii: "0"), input[index] <= UInt8(ascii: "9") {
                index += 1
            }
            guard index > exponentStart else { throw error("a number needs digits in its exponent") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: input[start..<index]), as: UTF8.self)
        return JSONNumber(text: text, isFloating: floating)
    }

    /// `NaN`, `INF` or `-INF`, which .NET writes unquoted for non-finite doubles.
    private mutating func readNonFiniteToken() throws(ContextCodingError) -> Double {
        if input[index] == UInt8(ascii: "N") {
            try expectLiteral("NaN")
            return .nan
        }
        if input[index] == UInt8(ascii: "-") {
            try expectLiteral("-INF")
            return -.infinity
        }
        try expectLiteral("INF")
        return .infinity
    }

    private func describeCurrent() -> String {
        guard index < input.count else { return "the end of the input" }
        let byte = input[index]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }
}

/// Which SDK contract an untyped JSON object is: the serializer writes members in ordinal order, so an `Entity`
/// starts with `"Attributes":[`, an `EntityReference` with `"Id":"…"` and an `OptionSetValue` with `"Value":` and a
/// number. Anything else stays an unknown object (kept whole).
enum JSONShape {
    case entity, entityReference, optionSetValue

    init?(firstKey: String, valueStart: UInt8) {
        switch (firstKey, valueStart) {
        case ("Attributes", UInt8(ascii: "[")): self = .entity
        case ("Id", UInt8(ascii: "\"")): self = .entityReference
        case ("Value", UInt8(ascii: "-")), ("Value", UInt8(ascii: "0")...UInt8(ascii: "9")): self = .optionSetValue
        default: return nil
        }
    }
}
