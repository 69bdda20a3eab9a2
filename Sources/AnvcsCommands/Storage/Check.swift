import AnvcsConfig
import AnvcsStorage
import ArgumentParser
import Foundation

/// `git anvcs storage check`: one line per probe of the configured store; exit 1 if any fails.
struct StorageCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Probe the configured blob store: DNS, TLS, bucket, versioning, a PUT-GET-DELETE round trip, proxy, clock skew.")

    @Flag(help: "Print the results as JSON.")
    var json = false

    func run() throws {
        let report = try StorageReport.make(context: Context())
        try report.render(json: json, hints: false, verbose: false)
    }
}

/// `git anvcs storage doctor`: the same probes, with what to do about each problem.
struct StorageDoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Probe the configured blob store and explain each problem; --verbose shows every detail.")

    @Flag(name: .shortAndLong, help: "Show every detail of every check (endpoint, addresses, versions, timings).")
    var verbose = false

    @Flag(help: "Print the results as JSON.")
    var json = false

    func run() throws {
        let report = try StorageReport.make(context: Context())
        try report.render(json: json, hints: true, verbose: verbose)
    }
}

/// The checks of one run, with the settings they were made from.
struct StorageReport {
    var mode: String
    var checks: [StorageCheck]

    static func make(context: Context) throws -> StorageReport {
        let repository = try context.repository()
        let settings = context.settings(for: repository)
        var common = repository.commonDirectory
        while common.hasSuffix("/") { common.removeLast() }
        var checks = configFileChecks(settings)
        do {
            let storage = try StorageSettings(lookup: { settings.string($0) }, defaultLocalPath: common + "/anvcs/store",
                                              environment: context.environment)
            checks += StorageDiagnostics(settings: storage).run()
            return StorageReport(mode: storage.mode.rawValue, checks: checks)
        } catch {
            checks.append(StorageCheck(name: "config", status: .failed, summary: Failure.describe(error),
                                       hint: "correct the storage keys in \(SettingsLoader.fileName) or git config anvcs.*"))
            return StorageReport(mode: settings.string("storage.mode") ?? "local", checks: checks)
        }
    }

    /// Problems in the configuration layers, and secrets written where they do not belong.
    static func configFileChecks(_ settings: Settings) -> [StorageCheck] {
        var checks: [StorageCheck] = []
        let storageProblems = settings.problems.filter { problem in
            guard let key = problem.key else { return true }
            return key.hasPrefix("storage.") || key.hasPrefix("adapters.")
        }
        for problem in storageProblems {
            checks.append(StorageCheck(name: "config-file", status: .failed, summary: problem.description,
                                       hint: "the value was ignored; the default or a lower layer is used"))
        }
        var secrets = settings.warnings.filter { $0.contains("secret") }
        // An AWS access key id written as the value of any key is a secret in the file too.
        for key in settings.entries.keys.sorted() {
            guard let entry = settings.entry(key), case .file = entry.source, let value = entry.value.scalar else { continue }
            if value.count == 20, value.hasPrefix("AKIA") || value.hasPrefix("ASIA"),
               value.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) {
                secrets.append("\(SettingsLoader.fileName): \(key): looks like an AWS access key id")
            }
        }
        if secrets.isEmpty {
            checks.append(StorageCheck(name: "secrets", status: .ok, summary: "no secret written in \(SettingsLoader.fileName)"))
        } else {
            checks.append(StorageCheck(name: "secrets", status: .warning, summary: "\(secrets.count) secret(s) written in \(SettingsLoader.fileName)",
                                       details: secrets,
                                       hint: "remove them from the tracked file; use the environment (${VAR}) or the AWS credential chain"))
        }
        return checks
    }

    var failed: Bool { checks.contains { $0.status == .failed } }

    func render(json: Bool, hints: Bool, verbose: Bool) throws {
        if json {
            struct Document: Encodable {
                var ok: Bool
                var mode: String
                var checks: [StorageCheck]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            let data = try encoder.encode(Document(ok: !failed, mode: mode, checks: checks))
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            let width = max(12, (checks.map(\.name.count).max() ?? 0) + 2)
            var text = ""
            for check in checks {
                let word: String
                switch check.status {
                case .ok: word = "ok"
                case .warning: word = "warn"
                case .failed: word = "FAIL"
                case .skipped: word = "skip"
                }
                text += word.padding(toLength: 6, withPad: " ", startingAt: 0)
                    + check.name.padding(toLength: width, withPad: " ", startingAt: 0) + check.summary + "\n"
                if verbose {
                    for detail in check.details { text += "      " + String(repeating: " ", count: width) + detail + "\n" }
                }
                if hints, let hint = check.hint, check.status == .failed || check.status == .warning {
                    text += "      " + String(repeating: " ", count: width) + "hint: " + hint + "\n"
                }
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if failed {
            if !json {
                let count = checks.filter { $0.status == .failed }.count
                Terminal.error("\(count) storage check(s) failed" + (hints ? "" : "; 'git anvcs storage doctor' explains each"))
            }
            throw ExitCode(1)
        }
    }
}
