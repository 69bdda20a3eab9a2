import AnvcsTestSupport
import Foundation

/// A small HTTP server (Python's http.server) that misbehaves on purpose, in ways a real S3 does
/// under load or over a bad network. Paths pick the behaviour; every request is counted per path:
/// - `/storm-N/...`: 503 SlowDown for the first N requests, then 200 with the body.
/// - `/truncate-N/...`: for the first N requests, a Content-Length of the full body but only half
///   of it, then the connection is closed; then 200 with the whole body.
/// - `/corrupt/...`: 200 with the body, one byte flipped.
/// - `/skewed/...`: 403 RequestTimeTooSkewed unless X-Amz-Date is within 15 minutes of the
///   server's clock, else 200.
/// - `/signature/...`: always 403 SignatureDoesNotMatch.
/// - an absolute URI (we are used as a proxy): 200 `proxied <uri>`.
/// - `/count/<path>` returns how many requests `<path>` has had.
/// The body is 256 KiB of a fixed pattern, sent with `x-amz-meta-sha256`.
final class FaultServer: Sendable {
    let server: PythonServer
    var endpoint: String { server.endpoint }

    static let script = #"""
    import hashlib, sys, time, calendar, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    BODY = bytes((i * 7 + 3) % 251 for i in range(256 * 1024))
    DIGEST = hashlib.sha256(BODY).hexdigest()
    counts = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass

        def error(self, status, code, message):
            doc = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(doc)))
            self.end_headers()
            self.wfile.write(doc)

        def ok(self, body):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amz-meta-sha256", DIGEST)
            self.send_header("x-amz-version-id", "v1")
            self.send_header("ETag", '"fault"')
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length: self.rfile.read(length)
            if self.path.startswith("http://"):
                # Asked as a forward proxy: say so, with the absolute URI we were given.
                return self.ok(("proxied " + self.path).encode())
            path = self.path.split("?")[0]
            if path.startswith("/count/"):
                with lock: n = counts.get(path[len("/count"):], 0)
                return self.ok(str(n).encode())
            with lock:
                counts[path] = counts.get(path, 0) + 1
                n = counts[path]
            first = path.split("/")[1]
            kind, _, limit = first.partition("-")
            limit = int(limit or 0)
            if kind == "storm" and n <= limit:
                return self.error(503, "SlowDown", "Please reduce your request rate.")
            if kind == "truncate" and n <= limit:
                self.send_response(200)
                self.send_header("Content-Length", str(len(BODY)))
                self.send_header("x-amz-meta-sha256", DIGEST)
                self.end_headers()
                self.wfile.write(BODY[: len(BODY) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if kind == "corrupt":
                body = bytearray(BODY); body[1000] ^= 0xFF
                return self.ok(bytes(body))
            if kind == "skewed":
                stamp = self.headers.get("X-Amz-Date", "")
                sent = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")) if stamp else 0
                if abs(sent - time.time()) > 900:
                    return self.error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
            if kind == "signature":
                return self.error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
            return self.ok(BODY)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("READY", server.server_address[1], flush=True)
    server.serve_forever()
    """#

    /// The sha256 of the 256 KiB body the server sends.
    static var bodySHA256: String {
        var body = [UInt8](repeating: 0, count: 256 * 1024)
        for index in body.indices {
            let value: Int = (index * 7 + 3) % 251
            body[index] = UInt8(value)
        }
        return sha256Hex(body)
    }

    init() throws {
        server = try PythonServer(script: FaultServer.script, name: "fault", timeout: 30)
    }

    func stop() { server.stop() }
}

import AnvcsStorage
func sha256Hex(_ bytes: [UInt8]) -> String { ContentDigest.sha256Hex(of: bytes) }
