/// The [MC-NBFX] record type bytes (§2.1.1) the binary reader and writer use, with their names for error messages.
///
/// Text records come in pairs: the even byte is the plain record, the odd byte (`+ 1`) is its `*WithEndElement`
/// variant (§2.2.3.31).
enum NBFXRecord {
    static let endElement: UInt8 = 0x01
    static let comment: UInt8 = 0x02
    static let array: UInt8 = 0x03

    static let shortAttribute: UInt8 = 0x04
    static let attribute: UInt8 = 0x05
    static let shortXmlnsAttribute: UInt8 = 0x08
    static let xmlnsAttribute: UInt8 = 0x09
    /// `PrefixAttributeA`; `B`…`Z` follow (0x26–0x3F).
    static let prefixAttributeA: UInt8 = 0x26
    static let attributeRange: ClosedRange<UInt8> = 0x04...0x3F

    static let shortElement: UInt8 = 0x40
    static let element: UInt8 = 0x41
    /// `PrefixElementA`; `B`…`Z` follow (0x5E–0x77).
    static let prefixElementA: UInt8 = 0x5E
    static let prefixElementRange: ClosedRange<UInt8> = 0x5E...0x77

    static let zeroText: UInt8 = 0x80
    static let oneText: UInt8 = 0x82
    static let falseText: UInt8 = 0x84
    static let trueText: UInt8 = 0x86
    static let int8Text: UInt8 = 0x88
    static let int16Text: UInt8 = 0x8A
    static let int32Text: UInt8 = 0x8C
    static let int64Text: UInt8 = 0x8E
    static let floatText: UInt8 = 0x90
    static let doubleText: UInt8 = 0x92
    static let decimalText: UInt8 = 0x94
    static let dateTimeText: UInt8 = 0x96
    /// `Chars8Text`; `Chars16Text` is `+ 2`, `Chars32Text` is `+ 4`.
    static let chars8Text: UInt8 = 0x98
    /// `Bytes8Text`; `Bytes16Text` is `+ 2`, `Bytes32Text` is `+ 4`.
    static let bytes8Text: UInt8 = 0x9E
    static let startListText: UInt8 = 0xA4
    static let endListText: UInt8 = 0xA6
    static let emptyText: UInt8 = 0xA8
    static let dictionaryText: UInt8 = 0xAA
    static let uniqueIdText: UInt8 = 0xAC
    static let timeSpanText: UInt8 = 0xAE
    static let uuidText: UInt8 = 0xB0
    static let uint64Text: UInt8 = 0xB2
    static let boolText: UInt8 = 0xB4
    /// `UnicodeChars8Text`; `UnicodeChars16Text` is `+ 2`, `UnicodeChars32Text` is `+ 4`.
    static let unicodeChars8Text: UInt8 = 0xB6
    static let qNameDictionaryText: UInt8 = 0xBC
    static let textRange: ClosedRange<UInt8> = 0x80...0xBD

    /// `true` for records that refer to a `DictionaryString` ([MC-NBFX] §2.1.4), which only a producer and consumer
    /// that share a dictionary can read.
    static func isDictionary(_ type: UInt8) -> Bool {
        switch type {
        case 0x06, 0x07, 0x0A, 0x0B, 0x0C...0x25, 0x42...0x5D, 0xAA, 0xAB, 0xBC, 0xBD: return true
        default: return false
        }
    }

    /// `true` for an element record this reader accepts (no dictionary).
    static func isElement(_ type: UInt8) -> Bool {
        type == shortElement || type == element || prefixElementRange.contains(type)
    }

    /// The size of one item of an `Array` record (§2.3.3) of this `*TextWithEndElement` type, or `nil` if the type
    /// may not be used in an array.
    static func arrayItemSize(_ type: UInt8) -> Int? {
        switch type {
        case boolText + 1: return 1
        case int16Text + 1: return 2
        case int32Text + 1, floatText + 1: return 4
        case int64Text + 1, doubleText + 1, dateTimeText + 1, timeSpanText + 1: return 8
        case decimalText + 1, uuidText + 1: return 16
        default: return nil
        }
    }

    /// `0x42 (ShortDictionaryElement)`.
    static func describe(_ type: UInt8) -> String {
        hex(type) + " (" + name(type) + ")"
    }

    /// `0x42`.
    static func hex(_ type: UInt8) -> String {
        let digits = String(type, radix: 16, uppercase: true)
        return "0x" + (digits.count < 2 ? "0" + digits : digits)
    }

    /// The record's name in [MC-NBFX] §2.1.1, or `Reserved`.
    static func name(_ type: UInt8) -> String {
        switch type {
        case 0x01: return "EndElement"
        case 0x02: return "Comment"
        case 0x03: return "Array"
        case 0x04: return "ShortAttribute"
        case 0x05: return "Attribute"
        case 0x06: return "ShortDictionaryAttribute"
        case 0x07: return "DictionaryAttribute"
        case 0x08: return "ShortXmlnsAttribute"
        case 0x09: return "XmlnsAttribute"
        case 0x0A: return "ShortDictionaryXmlnsAttribute"
        case 0x0B: return "DictionaryXmlnsAttribute"
        case 0x0C...0x25: return "PrefixDictionaryAttribute" + letter(type - 0x0C)
        case 0x26...0x3F: return "PrefixAttribute" + letter(type - 0x26)
        case 0x40: return "ShortElement"
        case 0x41: return "Element"
        case 0x42: return "ShortDictionaryElement"
        case 0x43: return "DictionaryElement"
        case 0x44...0x5D: return "PrefixDictionaryElement" + letter(type - 0x44)
        case 0x5E...0x77: return "PrefixElement" + letter(type - 0x5E)
        case 0xA5, 0xA7: return "Reserved"
        case textRange:
            let base = textNames[Int(type - 0x80) / 2]
            return type & 1 == 0 ? base : base + "WithEndElement"
        default: return "Reserved"
        }
    }

    private static let textNames = [
        "ZeroText", "OneText", "FalseText", "TrueText", "Int8Text", "Int16Text", "Int32Text", "Int64Text",
        "FloatText", "DoubleText", "DecimalText", "DateTimeText", "Chars8Text", "Chars16Text", "Chars32Text",
        "Bytes8Text", "Bytes16Text", "Bytes32Text", "StartListText", "EndListText", "EmptyText", "DictionaryText",
        "UniqueIdText", "TimeSpanText", "UuidText", "UInt64Text", "BoolText", "UnicodeChars8Text",
        "UnicodeChars16Text", "UnicodeChars32Text", "QNameDictionaryText",
    ]

    /// `A` for 0 … `Z` for 25, as in record names.
    static func letter(_ index: UInt8) -> String {
        String(UnicodeScalar(UInt8(ascii: "A") + index))
    }

    /// `a` for 0 … `z` for 25: the prefix of a `Prefix*` record.
    static func prefixLetter(_ index: UInt8) -> String {
        String(UnicodeScalar(UInt8(ascii: "a") + index))
    }
}
