import Foundation

/// Options for encoding.
public struct ContextEncodingOptions: Sendable {
    /// The zone whose offset is written for local dates that carry none (those read from the binary format) and for
    /// unspecified dates in JSON. Defaults to the process's zone, as .NET does.
    public var localTimeZone: TimeZone

    /// Creates options.
    public init(localTimeZone: TimeZone = .current) {
        self.localTimeZone = localTimeZone
    }

    /// The zone's UTC offset in minutes at a UTC instant.
    func localOffsetMinutes(utcTicks: Int64) -> Int {
        let seconds = Double(utcTicks - DotNetDateTime.unixEpochTicks) / 10_000_000
        return localTimeZone.secondsFromGMT(for: Date(timeIntervalSince1970: seconds)) / 60
    }
}

/// Encodes and decodes `RemoteExecutionContext` bodies in the three Dataverse wire formats.
///
/// ```swift
/// let context = try ContextCodec.decode(body, format: .json)
/// let xml = try ContextCodec.encode(context, format: .xml)
/// ```
public enum ContextCodec {
    /// Serializes a context as Dataverse does for `format`.
    public static func encode(
        _ context: RemoteExecutionContext,
        format: WireFormat,
        options: ContextEncodingOptions = ContextEncodingOptions()
    ) -> [UInt8] {
        switch format {
        case .json:
            var writer = JSONContractWriter(options: options)
            writer.beginContract(nil, typeHint: false)
            writer.write(context)
            writer.endContract()
            return writer.bytes
        case .xml:
            var writer = XMLContractWriter(nodes: XMLTextWriter(), options: options)
            writer.writeDocument(context)
            return writer.nodes.bytes
        case .binary:
            var writer = XMLContractWriter(nodes: NBFXWriter(), options: options)
            writer.writeDocument(context)
            return writer.nodes.bytes
        }
    }

    /// Parses a body in `format`.
    /// - Throws: ``ContextCodingError`` naming the position and the problem.
    public static func decode(
        _ bytes: some Collection<UInt8>,
        format: WireFormat,
        limits: DecodingLimits = .default
    ) throws(ContextCodingError) -> RemoteExecutionContext {
        guard bytes.count <= limits.maximumSize else {
            throw ContextCodingError(
                format: format,
                message: "the body is \(bytes.count) bytes, above the \(limits.maximumSize)-byte limit"
            )
        }
        let array = Array(bytes)
        guard !array.isEmpty else { throw ContextCodingError(format: format, offset: 0, message: "the body is empty") }
        let result: Result<RemoteExecutionContext, ContextCodingError> = array.withUnsafeBytes { buffer in
            do throws(ContextCodingError) {
                switch format {
                case .json:
                    var reader = JSONContractReader(input: buffer, limits: limits)
                    return .success(try reader.readDocument())
                case .xml:
                    var reader = XMLContractReader(nodes: XMLTextReader(input: buffer, limits: limits))
                    return .success(try reader.readDocument())
                case .binary:
                    var reader = XMLContractReader(nodes: NBFXReader(bytes: array, limits: limits))
                    return .success(try reader.readDocument())
                }
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Serialized size in bytes in each format.
    public static func sizes(of context: RemoteExecutionContext) -> [WireFormat: Int] {
        var sizes: [WireFormat: Int] = [:]
        for format in WireFormat.allCases { sizes[format] = encode(context, format: format).count }
        return sizes
    }
}
