import Foundation

/// A key pair, with a session token for temporary credentials.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-lived keys.
    public var expiration: Date?
    /// Where they came from (`environment`, `shared-file:default`, `web-identity`, ...), for doctor output.
    public var source: String

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil,
                expiration: Date? = nil, source: String = "static") {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    /// Never prints the secret.
    public var description: String {
        "AWSCredentials(\(accessKeyId), from \(source)" + (expiration.map { ", expires \($0)" } ?? "") + ")"
    }
}
