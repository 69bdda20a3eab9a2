import Foundation

/// How failed S3 calls are retried: exponential backoff with full jitter
/// (a random delay between zero and `min(maximumDelay, baseDelay * 2^attempt)`),
/// as in the AWS SDKs' "standard" mode.
public struct RetryPolicy: Sendable {
    /// Total tries, the first one included.
    public var maximumAttempts: Int = 5
    public var baseDelay: Double = 0.1
    public var maximumDelay: Double = 20

    public init(maximumAttempts: Int = 5, baseDelay: Double = 0.1, maximumDelay: Double = 20) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    public static let none = RetryPolicy(maximumAttempts: 1)

    /// The delay before try number `attempt + 1`, after `attempt` failures (1-based).
    public func delay<G: RandomNumberGenerator>(afterAttempt attempt: Int, using generator: inout G) -> Double {
        let ceiling = min(maximumDelay, baseDelay * pow(2, Double(attempt - 1)))
        guard ceiling > 0 else { return 0 }
        return Double.random(in: 0...ceiling, using: &generator)
    }

    /// S3 error codes that mean "slow down" or "try again", whatever the status.
    static let retryableCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "SlowDown", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable",
        "PriorRequestNotComplete", "EC2ThrottledException", "ProvisionedThroughputExceededException",
    ]

    static func isRetryable(status: Int, code: String) -> Bool {
        status >= 500 || status == 429 || retryableCodes.contains(code)
    }
}
