import AnvcsCRDT
import ArgumentParser
import Foundation

/// `git anvcs debug crdt-replay --trace FILE [--json]`: replays an editing trace through the CRDT.
struct CRDTReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crdt-replay",
        abstract: "Replay an editing trace through the CRDT engine and print times, sizes and memory.",
        discussion: """
        FILE is a trace in the sequential or concurrent form of josephg/editing-traces, gzipped or not. \
        Exits 1 when the replayed text differs from the trace's endContent.
        """)

    @Option(name: .long, help: "Path of the editing trace (.json or .json.gz).")
    var trace: String

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    @Option(name: .long, help: "How many times to repeat each timed step (the median is reported).")
    var repetitions = 5

    mutating func run() throws {
        let parsed: EditingTrace
        let report: TraceReplayer.Report
        do {
            parsed = try EditingTrace.load(path: trace)
            report = try TraceReplayer.run(path: trace, trace: parsed, repetitions: max(1, repetitions))
        } catch {
            FileHandle.standardError.write(Data("error: crdt-replay: \(error)\n".utf8))
            throw ExitCode.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("""
            trace              \(report.trace) (\(report.kind), \(report.transactions) transactions)
            matched endContent \(report.matched ? "yes" : "NO")
            operations         \(report.operations) characters, final length \(report.finalLength)
            local replay       \(format(report.localReplayMs)) ms (median of \(report.localReplayRuns.count), best \(format(report.localReplayBestMs)) ms)
            slowest operation  \(format(report.maxOperationMicros)) µs (99.9th percentile \(format(report.p999OperationMicros)) µs, \(report.operationsOver100Micros) over 100 µs; best of the timed passes)
            merge into empty   \(format(report.mergeIntoEmptyMs)) ms
            load saved         \(format(report.loadMs)) ms
            encoded            \(report.encodedBytes) bytes (history only: \(report.encodedHistoryBytes))
            memory kept        \(report.memoryKeptBytes) bytes after replay, \(report.loadedMemoryKeptBytes) after load
            """)
        }
        if !report.matched {
            FileHandle.standardError.write(Data("error: crdt-replay: replayed text differs from endContent\n".utf8))
            throw ExitCode.failure
        }
    }

    private func format(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}
