import AnvcsConfig
import AnvcsGit
import AnvcsProvenance
import Foundation

/// An error on its way to a person: what failed, why, and what to do next.
struct Failure: Error {
    var message: String
    var hint: String?
    var exitCode: Int32 = 1

    init(_ message: String, hint: String? = nil, exitCode: Int32 = 1) {
        self.message = message
        self.hint = hint
        self.exitCode = exitCode
    }

    /// Words for errors from the layers below.
    static func describe(_ error: Error) -> String {
        switch error {
        case let e as GitError: return e.description
        case let e as ConfigError: return e.description
        case let e as SetupError: return e.description
        case let e as CustomStringConvertible: return e.description
        default: return "\(error)"
        }
    }
}

/// stderr helpers: diagnostics never go to stdout, which carries data.
enum Terminal {
    static func error(_ message: String) { write("git anvcs: error: \(message)\n") }
    static func warning(_ message: String) { write("git anvcs: warning: \(message)\n") }
    static func hint(_ message: String) { write("hint: \(message)\n") }
    static func note(_ message: String) { write(message + "\n") }
    static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
    /// Data for stdout in one buffered write, in order with what `print` wrote before it.
    static func writeOut(_ bytes: [UInt8]) {
        fflush(nil)  // what `print` buffered goes first
        bytes.withUnsafeBytes { buffer in
            var at = 0
            while at < buffer.count {
                let n = Glibc.write(1, buffer.baseAddress! + at, buffer.count - at)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }  // a closed pipe (`| head`) is not an error of ours
                at += n
            }
        }
    }
    /// Whether stdout is a terminal (colours and progress only then).
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
}
