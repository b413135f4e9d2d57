import Testing
@Test func cliSmoke() { #expect(Bool(true)) }
