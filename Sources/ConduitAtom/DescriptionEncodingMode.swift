/// Which elements a description writes.
enum DescriptionEncodingMode {
    /// A PUT body: only the settable properties, as the SDKs send them.
    case request
    /// A response entry: every property, including the read-only runtime ones, as Azure returns them.
    case response
}
