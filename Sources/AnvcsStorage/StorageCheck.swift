/// The outcome of one `git anvcs storage check` probe.
public struct StorageCheck: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case ok
        /// Works, but something deserves attention (plain HTTP, a secret in the config file).
        case warning
        case failed
        /// Not run, because an earlier check it depends on failed or it does not apply.
        case skipped
    }

    /// `config`, `credentials`, `proxy`, `dns`, `tls`, `clock`, `bucket`, `versioning`, `round-trip`...,
    /// prefixed with `primary.` or `fallback.` in hybrid mode.
    public var name: String
    public var status: Status
    /// One line for a person.
    public var summary: String
    /// What was tried and seen, for `doctor --verbose`.
    public var details: [String]
    /// What to do about a failure or warning.
    public var hint: String?

    public init(name: String, status: Status, summary: String, details: [String] = [], hint: String? = nil) {
        self.name = name
        self.status = status
        self.summary = summary
        self.details = details
        self.hint = hint
    }
}
