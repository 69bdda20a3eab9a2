import AnvcsMerge
import SwiftParser

/// Swift for the merge engine: SwiftParser decides whether a Swift text is well formed, so the
/// structured layer may merge `.swift` files and keep only results that parse.
public enum SwiftLanguageSupport {
    /// Every parser the merge engine can use, Swift's included.
    public static let parsers = LanguageParsers(swift: { text in !Parser.parse(source: text).hasError })
}
