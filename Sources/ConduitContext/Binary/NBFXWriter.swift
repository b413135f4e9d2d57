// TEMPORARY stub until the record layer lands.
struct NBFXWriter: XMLNodeWriter {
    private(set) var bytes: [UInt8] = []
    mutating func startElement(prefix: String, localName: String) {}
    mutating func attribute(prefix: String, localName: String, value: XMLTextValue) {}
    mutating func namespaceDeclaration(prefix: String, namespace: String) {}
    mutating func text(_ value: XMLTextValue) {}
    mutating func endElement() {}
}
