// ARCResults: what the verify stage found of a message's ARC chain (RFC
// 8617): pass, fail or none, how many instances, which domains sealed, and
// why it failed. A verdict the rules test (`arc: pass`), the queue keeps, and
// an Authentication-Results header carries ("arc=pass (i=2)").

import SluiceCore

public struct ARCResults: TraceHeaderVerdict, Hashable {
    public static let name = "arc"

    public enum Status: String, Sendable, Codable, Hashable, CaseIterable {
        case pass, fail, none
    }

    public var status: Status
    public var instances: Int
    public var reason: String?
    /// d= of each seal, i=1 first.
    public var sealers: [String] = []
    /// When the chain passed: what the first trusted sealer (arc.trusted_sealers) recorded, by method ("dmarc": "pass").
    public var recorded: [String: String] = [:]
    /// That sealer.
    public var recordedBy: String?

    public init(status: Status, instances: Int, reason: String?, sealers: [String] = []) {
        self.status = status
        self.instances = instances
        self.reason = reason
        self.sealers = sealers
    }

    public var forQueue: ARCResults { self }

    public var summary: String { "arc=\(status.rawValue)" + (instances > 0 ? " (i=\(instances))" : "") }

    /// The result as an Authentication-Results method ("arc=pass (i=2 sealers example.net,example.org)").
    public var method: String {
        var out = "arc=\(status.rawValue)"
        var comment: [String] = []
        if instances > 0 { comment.append("i=\(instances)") }
        if !sealers.isEmpty { comment.append("sealed by " + sealers.joined(separator: ",")) }
        if let recordedBy, !recorded.isEmpty {
            comment.append("\(recordedBy) recorded " + recorded.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if status == .fail, let reason { comment.append(reason.filter { $0 != "(" && $0 != ")" && $0 != "\r" && $0 != "\n" }) }
        if !comment.isEmpty { out += " (" + comment.joined(separator: "; ") + ")" }
        return out
    }

    public func traceHeader(authservID: String) -> String? { "Authentication-Results: \(authservID);\r\n\t\(method)" }
}
