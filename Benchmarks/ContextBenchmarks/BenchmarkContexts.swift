import ConduitContext
import Foundation

/// The contexts measured: a real captured webhook body grown to about 8 KB of JSON, and one of about 180 KB.
struct BenchmarkContexts {
    var typical: RemoteExecutionContext
    var large: RemoteExecutionContext

    static func load() -> BenchmarkContexts {
        let fixture = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(
                "Tests/ConduitContextTests/Fixtures/contexts/webhook-update-msdyn_agentstatus-async-postop.json"
            )
        guard let data = FileManager.default.contents(atPath: fixture.path),
            let base = try? ContextCodec.decode(Array(data), format: .json)
        else { fatalError("benchmark fixture missing at \(fixture.path)") }
        return BenchmarkContexts(typical: grown(base, toJSONBytes: 8_000), large: grown(base, toJSONBytes: 180_000))
    }

    /// Adds realistic columns (strings, numbers, lookups, dates, money, choices) to the target and a pre-image
    /// until the JSON body reaches `size` bytes.
    static func grown(_ base: RemoteExecutionContext, toJSONBytes size: Int) -> RemoteExecutionContext {
        var context = base
        guard case .entity(var target)? = context.inputParameters["Target"] else { return context }
        var image = Entity(logicalName: target.logicalName, id: target.id)
        var column = 0
        while ContextCodec.encode(context, format: .json).count < size {
            for _ in 0..<(size > 50_000 ? 8 : 1) {
                column += 1
                let value: ContextValue
                switch column % 6 {
                case 0: value = .string("Value of column \(column) / with some text")
                case 1: value = .int(Int32(column * 37))
                case 2:
                    value = .entityReference(
                        EntityReference(logicalName: "systemuser", id: Guid.random(), name: "User \(column)")
                    )
                case 3:
                    value = .dateTime(DotNetDateTime(unixMilliseconds: 1_722_582_039_000 + Int64(column), kind: .utc)!)
                case 4: value = .money(Money(DotNetDecimal("\(column).5000")!))
                default: value = .optionSetValue(OptionSetValue(Int32(100_000_000 + column)))
                }
                target.attributes.append(key: "new_column\(column)", value: value)
                image.attributes.append(key: "new_column\(column)", value: value)
            }
            context.inputParameters["Target"] = .entity(target)
            context.preEntityImages = [("PreImage", image)]
        }
        return context
    }
}
