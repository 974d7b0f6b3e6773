// The `dlp:` section of sluice.yaml: Exact Data Match sources (issue 34).
//
//   dlp:
//     edm:
//       customers: { file: data/customers.csv, columns: [account, email, phone], key_file: etc/edm.key }
//
// `file` is a CSV with a header row; `columns` are the header's names of the
// values to look for; `key_file` holds the HMAC key (`sluice dlp edm keygen`).
// `sluice dlp edm import NAME` turns the CSV into keyed hashes in
// DATA_DIR/edm/NAME.idx; the daemon loads that index, never the CSV.

import Foundation
import SluiceConfig

public struct EDMSource: Sendable, Equatable {
    public var name: String
    public var file: String
    public var columns: [String]
    public var keyFile: String
    /// DATA_DIR/edm/NAME.idx.
    public var indexFile: String
}

public struct DLPSection: ConfigSection {
    public static let key = "dlp"
    public var edm: [String: EDMSource] = [:]

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        let m = try node.mapping(allowed: ["edm"])
        guard let sources = m["edm"] else { return }
        for (name, entry) in try sources.namedEntries() {
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw entry.error("an EDM source's name is letters, digits, '_' and '-' ('\(name)' is not)")
            }
            let e = try entry.mapping(allowed: ["file", "columns", "key_file"])
            guard let file = e["file"] else { throw entry.error("dlp.edm.\(name) needs file: (a CSV with a header row)") }
            guard let columnsNode = e["columns"] else { throw entry.error("dlp.edm.\(name) needs columns: (names from the CSV's header row)") }
            guard let key = e["key_file"] else { throw entry.error("dlp.edm.\(name) needs key_file: (sluice dlp edm keygen --out FILE makes one)") }
            let columns = try columnsNode.stringList()
            guard !columns.isEmpty else { throw columnsNode.error("columns: names at least one column") }
            guard Set(columns).count == columns.count else { throw columnsNode.error("a column is named twice") }
            guard columns.count <= 64 else { throw columnsNode.error("at most 64 columns") }
            edm[name] = EDMSource(
                name: name, file: context.resolve(try file.nonEmptyString()), columns: columns, keyFile: context.resolve(try key.nonEmptyString()),
                indexFile: (context.dataDir as NSString).appendingPathComponent("edm/\(name).idx"))
        }
    }
}

extension SluiceConfiguration {
    /// The Exact Data Match sources (none when DLP is not in the component list).
    public var edmSources: [String: EDMSource] { section(DLPSection.self)?.edm ?? [:] }
}
