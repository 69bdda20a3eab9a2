import AnvcsHTTP
import Foundation

/// ECS and EKS Pod Identity credentials: a JSON document from a local endpoint
/// (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` under 169.254.170.2, or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`), with `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`.
public struct ContainerCredentialsProvider: CredentialsProvider {
    public let url: String
    let authorizationToken: String?
    let authorizationTokenFile: String?
    let http: HTTPClient

    public init(url: String, authorizationToken: String? = nil, authorizationTokenFile: String? = nil, http: HTTPClient) {
        self.url = url
        self.authorizationToken = authorizationToken
        self.authorizationTokenFile = authorizationTokenFile
        self.http = http
    }

    public init?(environment: [String: String], http: HTTPClient) {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = "http://169.254.170.2" + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            url = full
        } else {
            return nil
        }
        self.init(url: url, authorizationToken: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
                  authorizationTokenFile: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], http: http)
    }

    struct Document: Decodable {
        var AccessKeyId: String
        var SecretAccessKey: String
        var Token: String?
        var Expiration: String?
    }

    public func credentials() throws -> AWSCredentials {
        var headers = HTTPHeaders()
        if let file = authorizationTokenFile,
           let token = try? String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) {
            headers.add("Authorization", token)
        } else if let token = authorizationToken {
            headers.add("Authorization", token)
        }
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest(method: "GET", url: url, headers: headers))
        } catch {
            throw StorageError.network(underlying: error, operation: "container credentials \(url)", attempts: 1)
        }
        guard response.isSuccess else {
            throw StorageError.credentialsUnavailable(detail: "container credentials endpoint \(url) answered HTTP \(response.status)")
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(response.body)) else {
            throw StorageError.invalidResponse(operation: "container credentials \(url)", detail: String(response.bodyText.prefix(200)))
        }
        return AWSCredentials(accessKeyId: document.AccessKeyId, secretAccessKey: document.SecretAccessKey,
                              sessionToken: document.Token,
                              expiration: document.Expiration.flatMap(HTTPDate.parseISO8601), source: "container")
    }
}
