// The README's listener example: prints each execution context that arrives on a queue of the embedded bus.
//
//   swift run conduit-listener-example contacts [conduit-data/amqp.connection]
import ConduitListener
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard let queue = arguments.first else {
    FileHandle.standardError.write(Data("usage: conduit-listener-example QUEUE [CONNECTION-STRING-FILE]\n".utf8))
    exit(2)
}
let file = arguments.dropFirst().first ?? "conduit-data/amqp.connection"
do {
    let listener = ContextListener(
        connectionString: try String(contentsOfFile: file, encoding: .utf8),
        source: .queue(queue),
        options: .init(concurrency: 4)
    ) { received in
        let context = received.context
        let line =
            "\(context.messageName ?? "") \(context.primaryEntityName ?? "") \(context.primaryEntityId) \(received.format)"
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
    try await listener.run()
} catch {
    FileHandle.standardError.write(Data("conduit-listener-example: \(error)\n".utf8))
    exit(1)
}
