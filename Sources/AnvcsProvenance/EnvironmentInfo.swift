import Foundation

/// What `env` records about the machine and toolchains: only facts that are cheap to read
/// (files and `uname`), never a process start per tool, because capture runs on every commit.
public enum EnvironmentInfo {
    public static func collect(repositoryRoot: String?, environment: [String: String], gitVersion: String? = nil) -> [String: String] {
        var info: [String: String] = [:]
        var uts = utsname()
        if uname(&uts) == 0 {
            info["os"] = field(&uts.sysname)
            info["kernel"] = field(&uts.release)
            info["arch"] = field(&uts.machine)
        }
        if let release = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            info["os_release"] = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        if let gitVersion { info["git"] = gitVersion }
        if environment["CI"] != nil || environment["GITHUB_ACTIONS"] != nil { info["ci"] = environment["GITHUB_ACTIONS"] != nil ? "github-actions" : "true" }
        if let venv = environment["VIRTUAL_ENV"] { info["python_venv"] = (venv as NSString).lastPathComponent }
        guard let root = repositoryRoot else { return info }
        // Toolchain pins that projects keep in their tree.
        let pins: [(file: String, key: String)] = [
            (".python-version", "python"), (".nvmrc", "node"), (".node-version", "node"), (".swift-version", "swift"),
            (".ruby-version", "ruby"), (".go-version", "go"), ("rust-toolchain", "rust"),
        ]
        for pin in pins {
            if let text = read(root, pin.file), let first = text.split(separator: "\n").first {
                info[pin.key] = first.trimmingCharacters(in: .whitespaces)
            }
        }
        if let toml = read(root, "rust-toolchain.toml"),
           let line = toml.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("channel") }),
           let value = line.split(separator: "=").last {
            info["rust"] = value.trimmingCharacters(in: CharacterSet(charactersIn: " \"'"))
        }
        if let goMod = read(root, "go.mod"), let line = goMod.split(separator: "\n").first(where: { $0.hasPrefix("go ") }) {
            info["go"] = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
        }
        if let tools = read(root, ".tool-versions") {
            for line in tools.split(separator: "\n") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                if parts.count >= 2, !parts[0].hasPrefix("#") { info[String(parts[0])] = String(parts[1]) }
            }
        }
        if let pkg = read(root, "Package.swift"), let first = pkg.split(separator: "\n").first, first.contains("swift-tools-version") {
            info["swift_tools"] = first.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return info
    }

    private static func read(_ root: String, _ name: String) -> String? {
        let path = root.hasSuffix("/") ? root + name : root + "/" + name
        guard let data = FileManager.default.contents(atPath: path), data.count < 65_536 else { return nil }
        return String(data: data, encoding: .utf8)
    }

    private static func field<T>(_ value: inout T) -> String {
        withUnsafeBytes(of: &value) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
