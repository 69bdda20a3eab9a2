import AnvcsTestSupport
import Foundation
import Testing

/// Every subcommand `git anvcs --help` lists has a man page, so `git help anvcs-<name>` works.
@Suite struct ManPageTests {
    @Test func everySubcommandHasAPage() throws {
        let t = try TemporaryRepository(initialize: false)
        let help = try t.anvcs(["--help"])
        #expect(help.succeeded)
        guard let section = help.stdout.components(separatedBy: "SUBCOMMANDS:").last else {
            Issue.record("no SUBCOMMANDS section in --help")
            return
        }
        let names = section.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let first = trimmed.split(separator: " ").first, !trimmed.hasPrefix("See") else { return nil }
            return String(first)
        }
        #expect(names.count >= 10, "\(names)")
        for name in names + ["hook"] {
            let page = Built.sourceRoot + "/man/git-anvcs-\(name).1"
            #expect(FileManager.default.fileExists(atPath: page), "missing man page for \(name)")
        }
        #expect(FileManager.default.fileExists(atPath: Built.sourceRoot + "/man/git-anvcs.1"))
    }
}
