import AnvcsHTTP
import Foundation

/// Exchanges an OIDC token (a file that a CI system or Kubernetes keeps fresh) for temporary
/// credentials through STS AssumeRoleWithWebIdentity. The call is unsigned: the token is the proof.
public struct WebIdentityCredentialsProvider: CredentialsProvider {
    public let roleArn: String
    public let tokenFile: String
    public let sessionName: String
    /// `https://sts.<region>.amazonaws.com`, or `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`.
    public let stsEndpoint: String
    let http: HTTPClient

    public init(roleArn: String, tokenFile: String, sessionName: String, stsEndpoint: String, http: HTTPClient) {
        self.roleArn = roleArn
        self.tokenFile = tokenFile
        self.sessionName = sessionName
        self.stsEndpoint = stsEndpoint
        self.http = http
    }

    /// From `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (or the profile's
    /// `web_identity_token_file` and `role_arn`); nil when neither names a token.
    public init?(environment: [String: String], profile: SharedFileCredentialsProvider, http: HTTPClient) {
        let settings = profile.settings()
        guard let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"] ?? settings["web_identity_token_file"],
              let roleArn = environment["AWS_ROLE_ARN"] ?? settings["role_arn"] else { return nil }
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? settings["region"] ?? "us-east-1"
        let endpoint = environment["AWS_ENDPOINT_URL_STS"] ?? environment["AWS_ENDPOINT_URL"] ?? "https://sts.\(region).amazonaws.com"
        let session = environment["AWS_ROLE_SESSION_NAME"] ?? settings["role_session_name"]
            ?? "anvcs-\(Int(Date().timeIntervalSince1970))"
        self.init(roleArn: roleArn, tokenFile: tokenFile, sessionName: session, stsEndpoint: endpoint, http: http)
    }

    public func credentials() throws -> AWSCredentials {
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw StorageError.credentialsUnavailable(detail: "web identity token file \(tokenFile) is missing or empty")
        }
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn),
                    ("RoleSessionName", sessionName), ("WebIdentityToken", token)]
            .map { "\($0.0)=\(SigV4Signer.percentEncode($0.1))" }.joined(separator: "&")
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        let endpoint = stsEndpoint.hasSuffix("/") ? stsEndpoint : stsEndpoint + "/"
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest(method: "POST", url: endpoint, headers: headers, body: .bytes(Array(form.utf8))))
        } catch {
            throw StorageError.network(underlying: error, operation: "AssumeRoleWithWebIdentity \(roleArn)", attempts: 1)
        }
        guard response.isSuccess else {
            let error = S3ErrorDocument(response)
            let root = XMLElementNode.parse(response.body)
            let code = root?.child("Error")?.text("Code") ?? error.code
            let message = root?.child("Error")?.text("Message") ?? error.message
            throw StorageError.s3(status: response.status, code: code, message: message,
                                  operation: "AssumeRoleWithWebIdentity", resource: roleArn, requestId: error.requestId)
        }
        guard let result = XMLElementNode.parse(response.body)?.child("AssumeRoleWithWebIdentityResult")?.child("Credentials"),
              let id = result.text("AccessKeyId"), let secret = result.text("SecretAccessKey") else {
            throw StorageError.invalidResponse(operation: "AssumeRoleWithWebIdentity", detail: String(response.bodyText.prefix(200)))
        }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: result.text("SessionToken"),
                              expiration: result.text("Expiration").flatMap(HTTPDate.parseISO8601), source: "web-identity")
    }
}
