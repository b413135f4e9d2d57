import Testing

@testable import ConduitServer

@Suite("console text")
struct ConsoleTextTests {
    @Test("JSON is indented, strings and numbers kept as written")
    func json() {
        let text = #"{"a":[1,2.50,{}],"b":"x, {y}: \"z\"","c":[]}"#
        #expect(
            ConsoleText.prettyJSON(text) == """
                {
                  "a": [
                    1,
                    2.50,
                    {}
                  ],
                  "b": "x, {y}: \\"z\\"",
                  "c": []
                }
                """
        )
    }

    @Test("XML gets one element per line; leaf elements keep their text on their line")
    func xml() {
        let text = #"<?xml version="1.0"?><a x="1"><b>text</b><c/><d><e>1</e></d></a>"#
        #expect(
            ConsoleText.prettyXML(text) == """
                <?xml version="1.0"?>
                <a x="1">
                  <b>text</b>
                  <c/>
                  <d>
                    <e>1</e>
                  </d>
                </a>
                """
        )
    }

    @Test("times: ticks to ISO 8601 and back")
    func times() throws {
        let ticks = try #require(ConsoleText.ticks("2026-11-26T15:20:01.123Z"))
        #expect(ConsoleText.iso(ticks) == "2026-11-26T15:20:01.123Z")
        #expect(ConsoleText.ticks("2026-11-26T15:20:01Z") == ticks - 1_230_000)
        #expect(ConsoleText.ticks("2026-11-26T16:20:01+01:00") == ticks - 1_230_000)
        #expect(ConsoleText.ticks("tomorrow") == nil)
    }
}
