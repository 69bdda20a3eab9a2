import AnvcsProcess
import Foundation

/// An editing trace in the sequential or concurrent form of josephg/editing-traces.
struct EditingTrace {
    struct Patch {
        var position: Int
        var deleteCount: Int
        var insert: String
    }

    struct Transaction {
        var patches: [Patch]
        /// Transactions this one was made on (concurrent form); nil in the sequential form.
        var parents: [Int]?
        var agent: Int
    }

    var startContent: String
    var endContent: String
    var transactions: [Transaction]
    var isConcurrent: Bool

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads `path`, gunzipping it (with `gzip -dc`) when it starts with the gzip magic bytes.
    static func load(path: String) throws -> EditingTrace {
        guard var data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read trace \(path): no such file or not readable")
        }
        if data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B {
            data = try gunzip(path: path)
        }
        return try parse(data, path: path)
    }

    private static func gunzip(path: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", "--", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExitPromptly()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "gzip -dc \(path) failed with status \(process.terminationStatus): is it a gzip file?")
        }
        return data
    }

    static func parse(_ data: Data, path: String) throws -> EditingTrace {
        func bad(_ why: String) -> Failure { Failure(description: "trace \(path) is malformed: \(why)") }
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw bad("top level is not an object") }
        guard let end = root["endContent"] as? String else { throw bad("no endContent string") }
        guard let txns = root["txns"] as? [[String: Any]] else { throw bad("no txns array") }
        let concurrent = (root["kind"] as? String) == "concurrent"
        var transactions: [Transaction] = []
        transactions.reserveCapacity(txns.count)
        for (index, txn) in txns.enumerated() {
            guard let patches = txn["patches"] as? [[Any]] else { throw bad("txns[\(index)] has no patches array") }
            var parsed: [Patch] = []
            for patch in patches {
                guard patch.count == 3, let position = (patch[0] as? NSNumber)?.intValue,
                      let deleteCount = (patch[1] as? NSNumber)?.intValue, let insert = patch[2] as? String else {
                    throw bad("txns[\(index)] has a patch that is not [position, deleteCount, insertText]")
                }
                parsed.append(Patch(position: position, deleteCount: deleteCount, insert: insert))
            }
            var parents: [Int]? = nil
            if concurrent {
                guard let list = txn["parents"] as? [NSNumber] else { throw bad("txns[\(index)] has no parents") }
                parents = list.map(\.intValue)
                guard parents!.allSatisfy({ $0 >= 0 && $0 < index }) else { throw bad("txns[\(index)] names a later parent") }
            }
            transactions.append(Transaction(patches: parsed, parents: parents, agent: (txn["agent"] as? NSNumber)?.intValue ?? 0))
        }
        return EditingTrace(startContent: root["startContent"] as? String ?? "", endContent: end,
                            transactions: transactions, isConcurrent: concurrent)
    }
}
