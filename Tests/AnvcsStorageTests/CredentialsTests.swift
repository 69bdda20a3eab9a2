import AnvcsHTTP
@testable import AnvcsStorage
import AnvcsTestSupport
import Foundation
import Testing

struct CredentialsTests {
    @Test func environmentComesFirst() throws {
        let chain = CredentialChain.standard(environment: [
            "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "tok",
            "HOME": "/nonexistent",
        ], http: HTTPClient())
        let credentials = try chain.credentials()
        #expect(credentials.accessKeyId == "AKIAENV" && credentials.sessionToken == "tok")
        #expect(credentials.source == "environment")
        #expect(!"\(credentials)".contains("envsecret"))
    }

    @Test func sharedFilesHonourAWSProfile() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = defaultsecret

        [work]
        aws_access_key_id=AKIAWORK
        # a comment
        aws_secret_access_key = worksecret
        """.write(toFile: directory + "/credentials", atomically: true, encoding: .utf8)
        try """
        [profile ci]
        aws_access_key_id = AKIACI
        aws_secret_access_key = cisecret
        region = eu-north-1
        s3 =
          addressing_style = path
        """.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        func chain(_ profile: String?) -> CredentialChain {
            var environment = ["AWS_SHARED_CREDENTIALS_FILE": directory + "/credentials", "AWS_CONFIG_FILE": directory + "/config"]
            environment["AWS_PROFILE"] = profile
            return CredentialChain.standard(environment: environment, http: HTTPClient())
        }
        #expect(try chain(nil).credentials().accessKeyId == "AKIADEFAULT")
        #expect(try chain("work").credentials().secretAccessKey == "worksecret")
        #expect(try chain("ci").credentials().accessKeyId == "AKIACI")
        #expect(try chain("ci").credentials().source == "shared-file:ci")
        do {
            _ = try chain("absent").credentials()
            Issue.record("a missing profile produced credentials")
        } catch StorageError.credentialsUnavailable(let detail) {
            #expect(detail.contains("profile absent"))
        }
    }

    @Test func containerCredentialsAreFetchedWithTheToken() throws {
        let server = try JSONServer(document: #"{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}"#,
                                    requiredAuthorization: "Bearer pod-token")
        defer { withExtendedLifetime(server) {} }
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "Bearer pod-token\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        let chain = CredentialChain.standard(environment: [
            "HOME": directory, "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": directory + "/token",
        ], http: HTTPClient())
        let credentials = try chain.credentials()
        #expect(credentials.accessKeyId == "ASIACONTAINER" && credentials.sessionToken == "t")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 4_070_908_800))
        #expect(credentials.source == "container")

        let unauthorized = CredentialChain.standard(environment: [
            "HOME": directory, "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/creds",
        ], http: HTTPClient())
        #expect(throws: StorageError.self) { try unauthorized.credentials() }
    }

    /// moto's STS, without request authentication (AssumeRoleWithWebIdentity is an unsigned call,
    /// which moto refuses once it checks signatures).
    @Test func webIdentityTokenIsExchangedThroughSTS() throws {
        let sts = try MotoServer.sharedOpenServer()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl\n".write(toFile: directory + "/oidc", atomically: true, encoding: .utf8)
        let chain = CredentialChain.standard(environment: [
            "HOME": directory, "AWS_WEB_IDENTITY_TOKEN_FILE": directory + "/oidc",
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci-deploy", "AWS_ROLE_SESSION_NAME": "anvcs-test",
            "AWS_ENDPOINT_URL_STS": sts.endpoint,
        ], http: HTTPClient())
        let credentials = try chain.credentials()
        #expect(credentials.source == "web-identity")
        #expect(credentials.accessKeyId.hasPrefix("ASIA"))
        #expect(credentials.sessionToken?.isEmpty == false)
        #expect(credentials.expiration.map { $0 > Date() } == true)
    }
}

/// Serves one JSON document on every path, requiring an Authorization header when given.
final class JSONServer: Sendable {
    let server: PythonServer
    var endpoint: String { server.endpoint }

    init(document: String, requiredAuthorization: String?) throws {
        let script = #"""
        import sys
        from http.server import BaseHTTPRequestHandler, HTTPServer
        doc, auth = sys.argv[1].encode(), sys.argv[2]
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                ok = not auth or self.headers.get("Authorization") == auth
                body = doc if ok else b'{"message":"unauthorized"}'
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        server = HTTPServer(("127.0.0.1", 0), H)
        print("READY", server.server_address[1], flush=True)
        server.serve_forever()
        """#
        server = try PythonServer(script: script, arguments: [document, requiredAuthorization ?? ""], name: "json", timeout: 30)
    }
}
