import ConduitEndpoints
import Testing

/// A webhook's `<settings>` (authtype 5 and 6), read with Dataverse's rules and error texts.
@Suite("Webhook settings")
struct WebhookSettingsTests {
    @Test("pairs are read in order and trimmed; a child's name is matched in any case")
    func parses() throws {
        let settings = try WebhookSettings(
            parsing: """
                <settings>
                  <setting name=" x-api-key " value=" s3cret "/>
                  <SETTING value="contoso" name="tenant"></SETTING>
                </settings>
                """
        )
        #expect(
            settings.settings == [
                WebhookSettings.Setting(name: "x-api-key", value: "s3cret"),
                WebhookSettings.Setting(name: "tenant", value: "contoso"),
            ]
        )
        try settings.checkHeaders()
    }

    @Test(
        "each broken rule is refused with Dataverse's text",
        arguments: [
            ("x-api-key: s3cret", "'settings' node is expected for authValue"),
            ("<settings><setting name='a' value='1'></settings>", "'settings' node is expected for authValue"),
            ("<headers><setting name='a' value='1'/></headers>", "'settings' node is expected for authValue"),
            ("<settings/>", "Atleast one 'setting' node is expected"),
            ("<settings><header name='a' value='1'/></settings>", "Invalid 'setting' node found in authValue"),
            ("<settings><setting name='a'/></settings>", "Invalid 'setting' node found in authValue"),
            (
                "<settings><setting name='a' value='1' extra='x'/></settings>",
                "Invalid 'setting' node found in authValue"
            ),
            ("<settings><setting name='a' value='  '/></settings>", "Invalid 'setting' node found in authValue"),
            ("<settings><setting name='a' key='1'/></settings>", "Invalid 'setting' node found in authValue"),
            ("<!DOCTYPE x [<!ENTITY e 'x'>]><settings/>", "'settings' node is expected for authValue"),
        ]
    )
    func refusals(text: String, expected: String) {
        let error = #expect(throws: ServiceEndpointError.self) { _ = try WebhookSettings(parsing: text) }
        #expect(error?.message.hasPrefix(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test("written as Dataverse stores them, escaped, and read back the same")
    func roundTrip() throws {
        let settings = WebhookSettings(settings: [
            WebhookSettings.Setting(name: "x-a", value: #"<"quoted" & 'single'>"#),
            WebhookSettings.Setting(name: "b", value: "2"),
        ])
        #expect(settings.xml.hasPrefix("<settings><setting name=\"x-a\" value=\"&lt;&quot;quoted&quot; &amp;"))
        #expect(try WebhookSettings(parsing: settings.xml) == settings)
    }

    @Test("a header name must be a token, and a value may not break the line")
    func headers() throws {
        let badName = try WebhookSettings(parsing: "<settings><setting name='x api' value='1'/></settings>")
        let nameError = #expect(throws: ServiceEndpointError.self) { try badName.checkHeaders() }
        #expect(nameError?.message.contains("invalid http header name 'x api'") == true)
        let badValue = WebhookSettings(settings: [WebhookSettings.Setting(name: "x-a", value: "1\r\nx-b: 2")])
        let valueError = #expect(throws: ServiceEndpointError.self) { try badValue.checkHeaders() }
        #expect(valueError?.message.contains("may not hold line breaks") == true)
    }
}
