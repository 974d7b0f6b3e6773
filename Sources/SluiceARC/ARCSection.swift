// The `arc:` section (SPEC §12):
//
//   arc: { trusted_sealers: [lists.example.org, forwarder.example] }
//
// Forwarders whose ARC-Authentication-Results this gateway believes: when a
// chain passes and one of them sealed it, what it recorded on arrival
// (dmarc=pass before a mailing list rewrote the Subject) is offered to the
// rules (`arc: { recorded: { dmarc: pass } }`).

import Foundation
import SluiceConfig

public struct ARCSection: ConfigSection {
    public static let key = "arc"
    public var trustedSealers: [String] = []

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        let m = try node.mapping(allowed: ["trusted_sealers"])
        trustedSealers = try m["trusted_sealers"]?.stringList().map { $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")) } ?? []
    }
}

extension SluiceConfiguration {
    /// `arc.trusted_sealers` (none when not configured).
    public var arcTrustedSealers: [String] { section(ARCSection.self)?.trustedSealers ?? [] }
}

enum RecordedResults {
    /// The method results of an ARC-Authentication-Results field ("dmarc=pass header.from=x" -> dmarc: pass).
    static func parse(_ field: [UInt8]) -> [String: String] {
        let value = ARCChain.value(field).replacingOccurrences(of: "\r\n", with: " ")
        var out: [String: String] = [:]
        // i=N; authserv-id; method=result props; ...
        for part in value.split(separator: ";").dropFirst(2) {
            let words = part.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = words.first, let eq = first.firstIndex(of: "=") else { continue }
            let method = first[..<eq].lowercased()
            let result = first[first.index(after: eq)...].lowercased()
            if !method.isEmpty, !result.isEmpty, out[method] == nil { out[method] = result }
        }
        return out
    }
}
