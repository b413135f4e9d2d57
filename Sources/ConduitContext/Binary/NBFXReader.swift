// TEMPORARY stub until the record layer lands.
struct NBFXReader: XMLNodeReader {
    var offset: Int { 0 }
    init(bytes: [UInt8], limits: DecodingLimits) {}
    mutating func next() throws(ContextCodingError) -> XMLNode { throw error("not built yet") }
    func error(_ message: String) -> ContextCodingError { ContextCodingError(format: .binary, message: message) }
}
