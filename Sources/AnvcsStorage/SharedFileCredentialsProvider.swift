import Foundation

/// `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`),
/// profile from `AWS_PROFILE` (else `default`). In the config file a profile is `[profile NAME]`
/// except `[default]`; the credentials file wins where both set a key.
public struct SharedFileCredentialsProvider: CredentialsProvider {
    public let profile: String
    public let credentialsPath: String
    public let configPath: String

    public init(profile: String, credentialsPath: String, configPath: String) {
        self.profile = profile
        self.credentialsPath = credentialsPath
        self.configPath = configPath
    }

    public init(environment: [String: String]) {
        let home = environment["HOME"] ?? "/"
        self.init(profile: environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default",
                  credentialsPath: environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials",
                  configPath: environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config")
    }

    /// The profile's settings, credentials file over config file.
    public func settings() -> [String: String] {
        var merged: [String: String] = [:]
        if let text = try? String(contentsOfFile: configPath, encoding: .utf8) {
            let section = profile == "default" ? "default" : "profile \(profile)"
            merged = IniFile.parse(text)[section] ?? IniFile.parse(text)[profile] ?? [:]
        }
        if let text = try? String(contentsOfFile: credentialsPath, encoding: .utf8) {
            merged.merge(IniFile.parse(text)[profile] ?? [:]) { _, fromCredentials in fromCredentials }
        }
        return merged
    }

    public func credentials() throws -> AWSCredentials {
        let values = settings()
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
            throw StorageError.credentialsUnavailable(
                detail: "profile \(profile) has no aws_access_key_id/aws_secret_access_key in \(credentialsPath) or \(configPath)")
        }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: values["aws_session_token"],
                              source: "shared-file:\(profile)")
    }
}

/// The INI dialect of the AWS files: `[section]`, `key = value`, `#` and `;` comments.
/// Indented lines (nested settings such as `s3 =` blocks) are skipped.
enum IniFile {
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[current]?[key] = value
        }
        return sections
    }
}
