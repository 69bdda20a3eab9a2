import Foundation

/// An agent's working session, set by `git anvcs session start` and read by every capture
/// until `session end`: a low-effort way for a wrapper script to label all its commits.
public struct Session: Sendable, Equatable {
    public var id: String
    public var agentID: String?
    public var model: String?
    public var prompt: String?
    public var startedAt: String

    public init(id: String, agentID: String?, model: String?, prompt: String?, startedAt: String) {
        self.id = id
        self.agentID = agentID
        self.model = model
        self.prompt = prompt
        self.startedAt = startedAt
    }

    var json: JSONValue {
        var o = JSONObject()
        o["id"] = .string(id)
        if let agentID { o["agent_id"] = .string(agentID) }
        if let model { o["model"] = .string(model) }
        if let prompt { o["prompt"] = .string(prompt) }
        o["started_at"] = .string(startedAt)
        return .object(o)
    }

    init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let started = json["started_at"]?.stringValue else { return nil }
        self.init(id: id, agentID: json["agent_id"]?.stringValue, model: json["model"]?.stringValue,
                  prompt: json["prompt"]?.stringValue, startedAt: started)
    }
}

/// Where the session lives: `<common git dir>/anvcs/session.json`, shared by all work trees.
public struct SessionStore: Sendable {
    public let path: String
    public init(stateDirectory: String) { path = stateDirectory + "/session.json" }

    public func load() -> Session? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
              let json = try? JSONValue.parse(text) else { return nil }
        return Session(json: json)
    }

    public func save(_ session: Session) throws {
        try AtomicFile.write(session.json.serialized(pretty: true) + "\n", to: path)
    }

    /// Ends the session; returns the one that was active.
    @discardableResult
    public func end() -> Session? {
        let current = load()
        try? FileManager.default.removeItem(atPath: path)
        return current
    }
}

/// Writes a whole file or nothing: a temporary file in the same directory, then rename.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do {
            try data.write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }
}
