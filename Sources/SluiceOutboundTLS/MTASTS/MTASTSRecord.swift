// MTASTSRecord: the `_mta-sts.DOMAIN` TXT record (RFC 8461 §3.1) that says a
// domain publishes a policy, and its id (a new id: fetch the policy again).

import Foundation

public struct MTASTSRecord: Sendable, Equatable {
    public var id: String

    /// What a TXT answer says.
    public enum Lookup: Sendable, Equatable {
        /// Exactly one STSv1 record with a valid id.
        case record(MTASTSRecord)
        /// No STSv1 record, or more than one, or one that does not parse: as if none (RFC 8461 §3.1).
        case none(String)
    }

    /// The records of one TXT answer (each the concatenation of its strings); those not starting with "v=STSv1" are
    /// someone else's.
    public static func lookup(_ texts: [String]) -> Lookup {
        let ours = texts.filter { $0.hasPrefix("v=STSv1") }
        guard !ours.isEmpty else { return .none("no v=STSv1 record") }
        guard ours.count == 1 else { return .none("\(ours.count) v=STSv1 records") }
        return parse(ours[0]).map(Lookup.record) ?? .none("unreadable record '\(ours[0].prefix(100))'")
    }

    /// "v=STSv1; id=20160831085700Z;" (fields in any order after v, other fields ignored; id 1 to 32 letters and digits).
    public static func parse(_ text: String) -> MTASTSRecord? {
        let fields = text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard fields.first == "v=STSv1" else { return nil }
        var id: String?
        for field in fields.dropFirst() {
            let pair = field.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return nil }
            if pair[0] == "id" {
                guard id == nil else { return nil }
                id = String(pair[1])
            }
        }
        guard let id, (1...32).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        return MTASTSRecord(id: id)
    }
}
