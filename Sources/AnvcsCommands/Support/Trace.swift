import Foundation

/// Phase timings on stderr when `ANVCS_TRACE` is set: how a slow command is taken apart.
final class Trace {
    let enabled: Bool
    var last = DispatchTime.now()

    init(enabled: Bool) { self.enabled = enabled }

    func mark(_ phase: String) {
        guard enabled else { return }
        let now = DispatchTime.now()
        Terminal.note(String(format: "trace: %-28@ %7.2f ms", phase as NSString, Double(now.uptimeNanoseconds - last.uptimeNanoseconds) / 1e6))
        last = now
    }
}
