import Testing
@testable import ConduitContext
@Test func smoke() { #expect(Guid("6d81597f-0f9f-e711-8122-000d3aa2331c")?.description == "6d81597f-0f9f-e711-8122-000d3aa2331c") }
