/// What the data-contract decoders have in common: the contract shapes in `ContractSchema+Read.swift` are read once
/// against this protocol.
///
/// A "slot" is the place a value sits: a JSON value after its key, or an XML member/item element whose start tag
/// has been read. Each `read…` consumes the whole slot.
protocol ContractReader {
    /// Enters a contract value. Returns `false` (slot consumed) when it is null.
    mutating func beginContract() throws(ContextCodingError) -> Bool
    /// The next member name of the current contract, or `nil` when the contract ends (its end consumed).
    mutating func nextMember() throws(ContextCodingError) -> String?
    /// Enters a collection. Returns `false` (slot consumed) when it is null.
    mutating func beginCollection() throws(ContextCodingError) -> Bool
    /// Moves to the next item; `false` when the collection ends (its end consumed).
    mutating func nextItem() throws(ContextCodingError) -> Bool

    /// `nil` for null.
    mutating func readString() throws(ContextCodingError) -> String?
    mutating func readBool() throws(ContextCodingError) -> Bool
    mutating func readInt32() throws(ContextCodingError) -> Int32
    /// `nil` for null.
    mutating func readGuid() throws(ContextCodingError) -> Guid?
    mutating func readDateTime() throws(ContextCodingError) -> DotNetDateTime
    mutating func readDecimal() throws(ContextCodingError) -> DotNetDecimal
    /// An enum: JSON number or XML member name (mapped by `names`). `nil` for null.
    mutating func readEnum(names: (String) -> Int32?) throws(ContextCodingError) -> Int32?
    /// A value in an `object`-typed slot.
    mutating func readValue() throws(ContextCodingError) -> ContextValue
    /// An unknown member's value, kept whole.
    mutating func readExtension() throws(ContextCodingError) -> ExtensionMember
    /// The member name the last ``nextMember()`` returned.
    var currentMemberName: String { get }

    /// Builds an error at the current position.
    func error(_ message: String) -> ContextCodingError
}

extension ContractReader {
    mutating func readRequiredGuid(_ member: String) throws(ContextCodingError) -> Guid {
        guard let guid = try readGuid() else { throw error("\(member) must be a GUID, not null") }
        return guid
    }
}
