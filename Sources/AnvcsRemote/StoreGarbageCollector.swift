import AnvcsGit
import Foundation

/// Consolidates an object-store remote's packs without deleting anything a concurrent reader
/// may still need: old packs are retired (listed with a timestamp) and deleted only after the
/// grace period; unlisted packs (from interrupted pushes) likewise only once they are that old.
public struct StoreGarbageCollector {
    public struct Report: Sendable, Equatable {
        public var packsBefore = 0
        public var packsAfter = 0
        public var consolidated: String?
        public var retired = 0
        public var deleted: [String] = []
    }

    let backend: StoreRemoteBackend
    public var grace: TimeInterval
    /// Fewer listed packs than this are left alone (nothing worth consolidating).
    public var minimumPacks = 2

    public init(context: HelperContext, store: any ObjectStore, grace: TimeInterval = 3600) {
        backend = StoreRemoteBackend(context: context, store: store)
        self.grace = grace
    }

    /// `repository` receives the remote's objects (it needs them to build the consolidated pack).
    public func run(repository: Repository, now: Date = Date()) throws -> Report {
        var report = Report()
        let store = backend.store
        let stamp = Int64(now.timeIntervalSince1970)
        var consolidated: RefsManifest.Pack?
        var consolidatedFrom: Set<String> = []
        var consolidatedRefs: [String: String] = [:]
        for attempt in 1...backend.maxAttempts {
            let (manifest, version) = try backend.load()
            guard let version else { return report }  // no remote yet
            report.packsBefore = manifest.packs.count
            var next = manifest
            if manifest.packs.count >= minimumPacks || consolidated != nil {
                if consolidated == nil {
                    try backend.downloadPacks(of: manifest, into: repository, verbosity: 1)
                    let tips = manifest.refs.values.compactMap { ObjectID(hex: $0) }
                    guard var pack = try StoreRemoteBackend.uploadPack(tips: tips, known: [], repository: repository, store: store) else {
                        return report
                    }
                    pack.created = stamp
                    consolidated = pack
                    report.consolidated = pack.name
                    consolidatedFrom = Set(manifest.packs.map(\.name))
                    consolidatedRefs = manifest.refs
                }
                // Packs pushed since we looked stay listed; those we consolidated retire.
                let kept = manifest.packs.filter { !consolidatedFrom.contains($0.name) && $0.name != consolidated!.name }
                let retiring = manifest.packs.filter { consolidatedFrom.contains($0.name) && $0.name != consolidated!.name }
                // A ref moved by a force push since we packed may name objects only in a retiring pack: keep those.
                let safe = manifest.refs.allSatisfy { name, value in
                    consolidatedRefs[name] == value || (try? repository.hasObject(ObjectID(hex: value)!)) == true
                }
                guard safe else { return report }
                next.packs = [consolidated!] + kept
                next.retired += retiring.map { .init(name: $0.name, retired: stamp) }
                report.retired = retiring.count
            }
            let expired = next.retired.filter { Double(stamp - $0.retired) >= grace }
            next.retired.removeAll { r in expired.contains { $0.name == r.name } }
            if next == manifest { return try sweep(manifest: manifest, expired: [], now: now, report: report) }
            next.generation += 1
            if try store.replaceManifest(with: next.encoded(), expected: version) {
                report.packsAfter = next.packs.count
                return try sweep(manifest: next, expired: expired.map(\.name), now: now, report: report)
            }
            usleep(UInt32.random(in: 1_000...(UInt32(min(attempt, 20)) * 10_000)))
        }
        throw RemoteError.contention(location: store.location, attempts: backend.maxAttempts)
    }

    /// Deletes expired retired packs and unlisted packs older than the grace period.
    private func sweep(manifest: RefsManifest, expired: [String], now: Date, report: Report) throws -> Report {
        var report = report
        report.packsAfter = manifest.packs.count
        let listed = Set(manifest.packs.map(\.name) + manifest.retired.map(\.name))
        for name in expired where !listed.contains(name) {
            try backend.store.delete(RefsManifest.packKey(name))
            report.deleted.append(name)
        }
        for object in try backend.store.list(prefix: "packs") {
            let file = (object.key as NSString).lastPathComponent
            guard file.hasPrefix("pack-"), file.hasSuffix(".pack") else { continue }
            let name = String(file.dropFirst(5).dropLast(5))
            guard !listed.contains(name), !report.deleted.contains(name),
                  now.timeIntervalSince(object.modified) >= grace else { continue }
            try backend.store.delete(object.key)
            report.deleted.append(name)
        }
        return report
    }
}
