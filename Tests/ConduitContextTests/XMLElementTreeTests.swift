import ConduitContext
import Testing

/// Small XML documents as element trees (a webhook's `authvalue` settings), read with the text XML reader.
@Suite("XML element trees")
struct XMLElementTreeTests {
    @Test("elements, attributes in order, text and children; prefixes and namespace declarations dropped")
    func reads() throws {
        let tree = try XMLElementTree.parse(
            #"<?xml version="1.0"?><p:root xmlns:p="urn:x" a="1" p:b="2"><child>one &amp; two</child><child/></p:root>"#
        )
        #expect(tree.name == "root")
        #expect(tree.attributes == [.init(name: "a", value: "1"), .init(name: "b", value: "2")])
        #expect(tree.children.map(\.name) == ["child", "child"])
        #expect(tree.children.first?.text == "one & two")
        #expect(tree.attribute("a") == "1" && tree.attribute("c") == nil)
    }

    @Test(
        "what is not one well-formed element is refused with its place",
        arguments: ["", "plain text", "<a><b></a>", "<a>", "<a/><b/>", "<!DOCTYPE a><a/>"]
    )
    func refusals(text: String) {
        let error = #expect(throws: ContextCodingError.self) { _ = try XMLElementTree.parse(text) }
        #expect(error?.format == .xml)
    }
}
