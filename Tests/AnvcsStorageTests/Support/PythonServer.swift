import Foundation

/// A Python server script run as a guarded `ChildProcess`. The script binds port 0 itself (no
/// race for a "free" port between tests) and announces itself with a first stdout line
/// `READY <port> [fields...]`; `start` waits for that line, bounded, and fails with the
/// script's stderr when it does not come.
final class PythonServer: @unchecked Sendable {
    let child: ChildProcess
    let port: Int
    /// The fields after the port on the READY line.
    let fields: [String]
    let logDirectory: String
    /// Seconds between SIGTERM and SIGKILL when stopping.
    let stopGrace: Double
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init(python: String = "python3", script: String, arguments: [String] = [], environment: [String: String]? = nil,
         name: String, timeout: Double = 60, stopGrace: Double = 5) throws {
        self.stopGrace = stopGrace
        logDirectory = NSTemporaryDirectory() + "anvcs-\(name)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        var environment = environment ?? ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"] {
            environment[proxy] = nil
        }
        child = try ChildProcess([python, "-c", pythonParentWatch + script] + arguments, environment: environment,
                                 stdoutPath: logDirectory + "/stdout", stderrPath: logDirectory + "/stderr", guarded: true)
        let deadline = Date().addingTimeInterval(timeout)
        var announced: [String]?
        var exitedWith: Int32?
        while Date() < deadline {
            let text = (try? String(contentsOfFile: logDirectory + "/stdout", encoding: .utf8)) ?? ""
            // Complete lines only; libraries may print before the script announces itself.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            if let line = lines.first(where: { $0.hasPrefix("READY ") }) {
                announced = line.split(separator: " ").map(String.init)
                break
            }
            if let status = child.poll() {
                exitedWith = status
                break
            }
            usleep(20_000)
        }
        guard let announced, announced.count >= 2, announced[0] == "READY", let port = Int(announced[1]) else {
            let errors = (try? String(contentsOfFile: logDirectory + "/stderr", encoding: .utf8)) ?? ""
            child.killNow()
            let why = exitedWith.map { "exited with status \($0)" } ?? "did not announce READY within \(Int(timeout)) s"
            throw TestFailure("\(name) server \(why): \(errors.suffix(2000))")
        }
        self.port = port
        self.fields = Array(announced.dropFirst(2))
    }

    deinit {
        child.stop(grace: stopGrace)
        try? FileManager.default.removeItem(atPath: logDirectory)
    }

    func stop() { child.stop(grace: stopGrace) }
    func killNow() { child.killNow() }
}
