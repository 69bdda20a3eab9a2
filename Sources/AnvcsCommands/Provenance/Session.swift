import AnvcsProvenance
import ArgumentParser
import Foundation

/// `git anvcs session start|end|show`: label every commit until the session ends.
struct SessionGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Start, end or show an agent session whose provenance every commit records.",
        subcommands: [Start.self, End.self, Current.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a session.")
        @Option(help: "The agent's identity.") var agent: String?
        @Option(help: "The model.") var model: String?
        @Option(help: "The prompt or task of the session.") var prompt: String?

        func run() throws {
            let context = Context()
            let repository = try context.repository()
            guard agent != nil || model != nil || prompt != nil else {
                throw Failure("a session needs at least one of --agent, --model or --prompt", exitCode: 2)
            }
            let store = SessionStore(stateDirectory: ProvenanceStore(repository: repository).stateDirectory)
            let id = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let session = AnvcsProvenance.Session(id: id, agentID: agent, model: model, prompt: prompt, startedAt: Timestamp.rfc3339(context.now))
            if let old = store.load() { Terminal.note("ended session \(old.id)") }
            try store.save(session)
            print("session \(id) started; commits now record " + [agent.map { "agent \($0)" }, model.map { "model \($0)" }, prompt.map { _ in "the prompt" }].compactMap { $0 }.joined(separator: ", "))
        }
    }

    struct End: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "end", abstract: "End the session.")
        func run() throws {
            let repository = try Context().repository()
            let store = SessionStore(stateDirectory: ProvenanceStore(repository: repository).stateDirectory)
            guard let ended = store.end() else { print("no session is active"); return }
            print("session \(ended.id) ended")
        }
    }

    struct Current: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the active session.")
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let repository = try Context().repository()
            let store = SessionStore(stateDirectory: ProvenanceStore(repository: repository).stateDirectory)
            guard let s = store.load() else { print(json ? "null" : "no session is active"); return }
            if json {
                var o = JSONObject()
                o["id"] = .string(s.id)
                o["agent_id"] = s.agentID.map(JSONValue.string) ?? .null
                o["model"] = s.model.map(JSONValue.string) ?? .null
                o["prompt"] = s.prompt.map(JSONValue.string) ?? .null
                o["started_at"] = .string(s.startedAt)
                print(JSONValue.object(o).serialized(pretty: true))
            } else {
                print("session \(s.id) since \(s.startedAt): agent \(s.agentID ?? "-"), model \(s.model ?? "-")")
            }
        }
    }
}
