import CLibgit2

/// Which configuration file a write goes to.
public enum ConfigLevel: Sendable {
    /// The repository's own `.git/config`.
    case local
    /// `~/.gitconfig` (or `$XDG_CONFIG_HOME/git/config`).
    case global
}

/// A git configuration view. Reads see every level (system, global, local) as git does;
/// writes go to one level. The only owner of its `git_config` handle.
public final class GitConfig {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_config_free(pointer) }

    /// The value of `key` (`section.sub.name`), or nil when unset.
    public func string(_ key: String) throws(GitError) -> String? {
        var buf = git_buf()
        defer { git_buf_dispose(&buf) }
        let rc = git_config_get_string_buf(&buf, pointer, key)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check("git_config_get_string_buf(\(key))", rc)
        return String(cString: buf.ptr)
    }

    /// `key` read as a git boolean (`true/yes/on/1`), or nil when unset.
    public func bool(_ key: String) throws(GitError) -> Bool? {
        var value: Int32 = 0
        let rc = git_config_get_bool(&value, pointer, key)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check("git_config_get_bool(\(key))", rc)
        return value != 0
    }

    /// Every value of a multi-valued `key`, in file order.
    public func strings(_ key: String) throws(GitError) -> [String] {
        var iterator: OpaquePointer?
        let rc = git_config_multivar_iterator_new(&iterator, pointer, key, nil)
        if rc == GIT_ENOTFOUND.rawValue { return [] }
        try check("git_config_multivar_iterator_new(\(key))", rc)
        defer { git_config_iterator_free(iterator) }
        var values: [String] = []
        var entry: UnsafeMutablePointer<git_config_entry>?
        while git_config_next(&entry, iterator) == 0, let entry {
            values.append(String(cString: entry.pointee.value))
        }
        return values
    }

    /// Every `(key, value)` whose key starts with `prefix` (keys are lower-cased by git).
    public func entries(withPrefix prefix: String) throws(GitError) -> [(key: String, value: String)] {
        var iterator: OpaquePointer?
        try check("git_config_iterator_new", git_config_iterator_new(&iterator, pointer))
        defer { git_config_iterator_free(iterator) }
        var out: [(String, String)] = []
        var entry: UnsafeMutablePointer<git_config_entry>?
        let lowered = prefix.lowercased()
        while git_config_next(&entry, iterator) == 0, let entry {
            let key = String(cString: entry.pointee.name)
            if key.lowercased().hasPrefix(lowered) { out.append((key, String(cString: entry.pointee.value))) }
        }
        return out
    }

    public func set(_ key: String, _ value: String) throws(GitError) {
        try check("git_config_set_string(\(key))", git_config_set_string(pointer, key, value))
    }

    /// Adds one more value to a multi-valued key (like `git config --add`).
    public func add(_ key: String, _ value: String) throws(GitError) {
        // "$^" matches no existing value, so libgit2 appends a new entry.
        try check("git_config_set_multivar(\(key))", git_config_set_multivar(pointer, key, "$^", value))
    }

    /// Removes `key`; nothing happens when it is unset.
    public func unset(_ key: String) throws(GitError) {
        let rc = git_config_delete_entry(pointer, key)
        if rc == GIT_ENOTFOUND.rawValue { return }
        try check("git_config_delete_entry(\(key))", rc)
    }

    /// Removes the values of a multi-valued key that equal `value` exactly.
    public func unset(_ key: String, value: String) throws(GitError) {
        let pattern = "^" + regexEscaped(value) + "$"
        let rc = git_config_delete_multivar(pointer, key, pattern)
        if rc == GIT_ENOTFOUND.rawValue { return }
        try check("git_config_delete_multivar(\(key))", rc)
    }

    private func regexEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\^$.|?*+()[]{}".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

extension Repository {
    /// The configuration as git sees it here (all levels), or only the file of `level` for writing.
    public func config(level: ConfigLevel? = nil) throws(GitError) -> GitConfig {
        var all: OpaquePointer?
        try check("git_repository_config", git_repository_config(&all, pointer))
        guard let level else { return GitConfig(pointer: all!) }
        defer { git_config_free(all) }
        var single: OpaquePointer?
        let gitLevel = level == .local ? GIT_CONFIG_LEVEL_LOCAL : GIT_CONFIG_LEVEL_GLOBAL
        try check("git_config_open_level", git_config_open_level(&single, all, gitLevel))
        return GitConfig(pointer: single!)
    }
}
