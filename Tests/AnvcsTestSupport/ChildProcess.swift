import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process for test servers and scripts, started with posix_spawn rather than
/// Foundation's `Process`, for two reasons found when this suite hung:
///
/// - Swift Testing runs tests on libdispatch worker threads, which block almost every signal
///   (SIGTERM and SIGINT included). `Process` on Linux passes the spawning thread's signal mask
///   on to the child, so a server started from a test never saw `terminate()`'s SIGTERM, and
///   the `waitUntilExit()` that followed blocked a cooperative thread forever; two of those
///   and the 2-thread pool of this machine stood still. Here the child gets an empty signal
///   mask and default handlers.
/// - Every wait is bounded: `stop` escalates to SIGKILL, `run` kills a script that overruns.
///
/// With `guarded`, the child's stdin is a pipe whose write end only this process holds; the
/// Python servers exit when it reaches end of file, so they never outlive a crashed or killed
/// test process.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let commandLine: String
    private let guardDescriptor: Int32
    private let state = NSLock()
    private var exitStatus: Int32?

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later), which its headers hide from
    /// Swift; looked up once, nil on an older C library.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    public init(_ arguments: [String], environment: [String: String]? = nil, stdoutPath: String? = nil,
         stderrPath: String? = nil, inputPath: String? = nil, guarded: Bool = false) throws {
        commandLine = arguments.joined(separator: " ").prefix(200).description
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var readEnd: Int32 = -1
        var writeEnd: Int32 = -1
        if guarded {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw TestFailure("pipe failed: errno \(errno)") }
            // Other children must not inherit either end (glibc's pipe2 is not visible to Swift).
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
            (readEnd, writeEnd) = (ends[0], ends[1])
            posix_spawn_file_actions_adddup2(&actions, readEnd, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, inputPath ?? "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else is inherited. Pipes other threads are opening for their own children (Foundation's
        // Pipe is not close-on-exec) would otherwise live on in this child: a long-lived test server once
        // kept the write end of a `git merge-file` pipe open, and the test reading it never saw EOF (a hung run).
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawnp(&child, arguments[0], &actions, &attributes, argv, envp)
        if readEnd >= 0 { close(readEnd) }
        guard result == 0 else {
            if writeEnd >= 0 { close(writeEnd) }
            throw TestFailure("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        pid = child
        guardDescriptor = writeEnd
    }

    deinit {
        stop()
        if guardDescriptor >= 0 { close(guardDescriptor) }
    }

    /// The exit status (or 128 + signal), once the child has ended; nil while it runs.
    public func poll() -> Int32? {
        state.lock()
        defer { state.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        guard reaped == pid else { return nil }
        let signal = status & 0x7f
        exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return exitStatus
    }

    public var isRunning: Bool { poll() == nil }

    /// Waits up to `timeout` seconds; nil if the child is still running then.
    @discardableResult
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let status = poll() { return status }
            if Date() >= deadline { return nil }
            usleep(10_000)
        }
    }

    /// SIGTERM, then SIGKILL if the child has not ended within `grace` seconds.
    public func stop(grace: Double = 5) {
        guard isRunning else { return }
        kill(pid, grace > 0 ? SIGTERM : SIGKILL)
        if wait(timeout: grace) == nil {
            kill(pid, SIGKILL)
            wait(timeout: 10)
        }
    }

    /// SIGKILL at once: a server that dies mid-transfer.
    public func killNow() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        wait(timeout: 10)
    }

    /// Runs a command to completion (killed after `timeout` seconds) and returns its stdout;
    /// throws with its stderr when it fails.
    public static func run(_ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
                    timeout: Double = 60) throws -> String {
        let directory = NSTemporaryDirectory() + "anvcs-run-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var inputPath: String?
        if let input {
            inputPath = directory + "/stdin"
            try Data(input.utf8).write(to: URL(fileURLWithPath: directory + "/stdin"))
        }
        let child = try ChildProcess(arguments, environment: environment, stdoutPath: directory + "/stdout",
                                     stderrPath: directory + "/stderr", inputPath: inputPath)
        guard let status = child.wait(timeout: timeout) else {
            child.killNow()
            throw TestFailure("\(child.commandLine) did not finish within \(Int(timeout)) s and was killed")
        }
        let output = (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? ""
        guard status == 0 else {
            let errors = (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? ""
            throw TestFailure("\(child.commandLine) exited \(status): \(errors)")
        }
        return output
    }
}

/// Python code put before a server script so that it exits when the guard pipe on its stdin
/// closes, that is when the test process that started it is gone.
let pythonParentWatch = """
import os as _os, sys as _sys, threading as _threading
def _watch_parent():
    while _sys.stdin.buffer.read(65536):
        pass
    _os._exit(0)
_threading.Thread(target=_watch_parent, daemon=True).start()

"""

/// A loopback port nobody listens on right now (bound, read back, released), for a server a
/// test must stop and start again on the same address.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestFailure("cannot reserve a loopback port: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
