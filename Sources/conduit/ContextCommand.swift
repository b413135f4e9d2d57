import ArgumentParser
import ConduitContext
import Foundation

/// `conduit context`: convert and inspect execution-context bodies offline.
struct ContextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context",
        abstract: "Convert and inspect RemoteExecutionContext bodies (JSON, XML, .NET binary).",
        discussion: """
            Reads a body from a file or standard input, as a Dataverse listener receives it: \
            'json' (application/json, DataContractJsonSerializer), 'xml' (application/xml, DataContractSerializer) \
            or 'binary' (application/msbin1, .NET binary XML). Bad input exits with code 2 and one message naming \
            the position and the problem.
            """,
        subcommands: [Convert.self, Inspect.self]
    )

    struct Convert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a context from one wire format to another.",
            discussion: "Example: conduit context convert --from json --to binary --input ctx.json --output ctx.bin"
        )

        @Option(help: "The input format.")
        var from: WireFormat

        @Option(help: "The output format.")
        var to: WireFormat

        @Option(help: "Read from this file instead of standard input.")
        var input: String?

        @Option(help: "Write to this file instead of standard output.")
        var output: String?

        @Option(
            name: .customLong("time-zone"),
            help: ArgumentHelp(
                "The zone of local dates that carry no offset, as the .NET binary format writes them: a name such as Europe/Paris or an offset such as -07:00. Default: this system's zone.",
                valueName: "zone"
            )
        )
        var timeZone: String?

        func run() async throws {
            let options = ContextEncodingOptions(localTimeZone: try CommandIO.timeZone(timeZone))
            let bytes = try CommandIO.read(input)
            let context = try CommandIO.decode(bytes, format: from, source: input)
            try CommandIO.write(ContextCodec.encode(context, format: to, options: options), to: output)
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a short summary of a context: message, table, stage, ids, attributes, images, sizes."
        )

        @Option(help: "The input format: json, xml or binary (detected from the first byte when omitted).")
        var format: WireFormat?

        @Option(help: "Read from this file instead of standard input.")
        var input: String?

        func run() async throws {
            let bytes = try CommandIO.read(input)
            let format = self.format ?? WireFormat.detect(bytes)
            guard let format else {
                throw CommandFailure(
                    "cannot tell the format of \(input ?? "standard input"): pass --format json|xml|binary"
                )
            }
            let context = try CommandIO.decode(bytes, format: format, source: input)
            print(ContextSummary(context: context, inputFormat: format, inputSize: bytes.count).text, terminator: "")
        }
    }
}

extension WireFormat: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.lowercased())
    }

    public static var allValueStrings: [String] { allCases.map(\.rawValue) }

    /// Guesses the format: `{` JSON, `<` XML, or an [MC-NBFX] element record whose name fits in the body.
    static func detect(_ bytes: [UInt8]) -> WireFormat? {
        if let first = bytes.first, first == 0x40 || (0x5E...0x77).contains(first), bytes.count > 2,
            Int(bytes[1]) > 0, Int(bytes[1]) < 0x80, Int(bytes[1]) + 2 <= bytes.count
        {
            return .binary
        }
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        guard let first = bytes[start...].first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) else { return nil }
        switch first {
        case UInt8(ascii: "{"): return .json
        case UInt8(ascii: "<"): return .xml
        default: return nil
        }
    }
}
