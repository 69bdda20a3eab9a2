/// Real parsers the engine may lean on, supplied by the caller so that this module stays free of
/// heavy parser libraries (swift-syntax alone adds thousands of protocol conformance records to
/// every binary that links it, and each one slows process start).
///
/// A language whose parser is missing is merged like a file of unknown type: git's line merge
/// with refinements, never structurally, because a structured result it cannot check would be a guess.
public struct LanguageParsers: Sendable {
    /// Whether a text is a well-formed Swift source file (AnvcsMergeSwift supplies SwiftParser).
    public var swift: (@Sendable (String) -> Bool)?

    public init(swift: (@Sendable (String) -> Bool)? = nil) {
        self.swift = swift
    }
}
