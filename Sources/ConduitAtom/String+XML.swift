extension String {
    /// The text without leading and trailing XML whitespace (space, tab, CR, LF), as XML Schema's `collapse`
    /// facet treats typed values such as numbers, booleans and durations.
    func trimmingXMLWhitespace() -> String {
        let isXMLWhitespace: (Character) -> Bool = {
            $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n"
        }
        guard let first = firstIndex(where: { !isXMLWhitespace($0) }) else {
            return ""
        }
        let last = lastIndex(where: { !isXMLWhitespace($0) }) ?? first
        return String(self[first...last])
    }

    /// The text shortened to `limit` characters with an ellipsis, for quoting input in error messages.
    func truncatedForMessage(limit: Int = 64) -> String {
        count <= limit ? self : String(prefix(limit)) + "…"
    }
}
