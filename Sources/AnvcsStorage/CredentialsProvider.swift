import AnvcsHTTP
import Foundation
import Synchronization

/// Supplies credentials for signing; called before every request, so it must be cheap
/// (providers of temporary credentials cache them until shortly before they expire).
public protocol CredentialsProvider: Sendable {
    func credentials() throws -> AWSCredentials
}

/// Fixed keys, given in code (tests, or keys resolved elsewhere).
public struct StaticCredentialsProvider: CredentialsProvider {
    public let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() throws -> AWSCredentials { value }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` from an environment dictionary.
public struct EnvironmentCredentialsProvider: CredentialsProvider {
    let environment: [String: String]
    public init(environment: [String: String]) { self.environment = environment }

    public func credentials() throws -> AWSCredentials {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw StorageError.credentialsUnavailable(detail: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token, source: "environment")
    }
}

/// Tries providers in order and keeps the first that answers; the answer is cached and
/// refreshed five minutes before it expires.
public final class CredentialChain: CredentialsProvider {
    let providers: [any CredentialsProvider]
    private let cached = Mutex<AWSCredentials?>(nil)
    let clock: @Sendable () -> Date

    public init(_ providers: [any CredentialsProvider], clock: @escaping @Sendable () -> Date = { Date() }) {
        self.providers = providers
        self.clock = clock
    }

    /// The standard AWS order: environment, web identity, shared files (with `AWS_PROFILE`),
    /// then container credentials.
    public static func standard(environment: [String: String], http: HTTPClient) -> CredentialChain {
        var providers: [any CredentialsProvider] = [EnvironmentCredentialsProvider(environment: environment)]
        let profile = SharedFileCredentialsProvider(environment: environment)
        if let webIdentity = WebIdentityCredentialsProvider(environment: environment, profile: profile, http: http) {
            providers.append(webIdentity)
        }
        providers.append(profile)
        if let container = ContainerCredentialsProvider(environment: environment, http: http) {
            providers.append(container)
        }
        return CredentialChain(providers)
    }

    public func credentials() throws -> AWSCredentials {
        let now = clock()
        if let fresh = cached.withLock({ $0 }), fresh.expiration.map({ $0.timeIntervalSince(now) > 300 }) ?? true {
            return fresh
        }
        var reasons: [String] = []
        for provider in providers {
            do {
                let found = try provider.credentials()
                cached.withLock { $0 = found }
                return found
            } catch let error as StorageError {
                if case .credentialsUnavailable(let detail) = error {
                    reasons.append(detail)
                    continue
                }
                throw error
            }
        }
        throw StorageError.credentialsUnavailable(detail: reasons.joined(separator: "; "))
    }
}

