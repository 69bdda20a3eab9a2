import Foundation

enum ProcessInfoLite {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
}
