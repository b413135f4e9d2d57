/// A compiled `LIKE` pattern: `%` matches any run of characters (none included), `_` exactly one, and the
/// escape character makes the character after it literal. Matching is case-sensitive.
struct LikePattern: Sendable {
    private enum Element: Sendable, Equatable {
        case literal(Character)
        case anyCharacter
        case anyRun
    }

    private let elements: [Element]

    /// Compiles a pattern; an escape character at the very end stands for itself.
    init(_ pattern: String, escape: Character?) {
        var elements: [Element] = []
        var escaping = false
        for character in pattern {
            if escaping {
                elements.append(.literal(character))
                escaping = false
            } else if character == escape {
                escaping = true
            } else if character == "%" {
                if elements.last != .anyRun {
                    elements.append(.anyRun)
                }
            } else if character == "_" {
                elements.append(.anyCharacter)
            } else {
                elements.append(.literal(character))
            }
        }
        if escaping, let escape {
            elements.append(.literal(escape))
        }
        self.elements = elements
    }

    /// Whether the whole text matches. Backtracks only to the last `%`, so the work is at most the product of
    /// the lengths, and linear for the common patterns.
    func matches(_ text: String) -> Bool {
        let characters = Array(text)
        var textIndex = 0
        var patternIndex = 0
        var lastRun: Int?
        var runTextIndex = 0
        while textIndex < characters.count {
            if patternIndex < elements.count {
                switch elements[patternIndex] {
                case .anyRun:
                    lastRun = patternIndex
                    runTextIndex = textIndex
                    patternIndex += 1
                    continue
                case .anyCharacter:
                    textIndex += 1
                    patternIndex += 1
                    continue
                case .literal(let character) where character == characters[textIndex]:
                    textIndex += 1
                    patternIndex += 1
                    continue
                case .literal:
                    break
                }
            }
            guard let lastRun else { return false }
            patternIndex = lastRun + 1
            runTextIndex += 1
            textIndex = runTextIndex
        }
        while patternIndex < elements.count, elements[patternIndex] == .anyRun {
            patternIndex += 1
        }
        return patternIndex == elements.count
    }
}
