// AddressList: rules/lists/NAME.txt, one address or "@domain" per line
// ("@.domain" for subdomains too); "#" starts a comment.

import Foundation

public struct AddressList: Sendable {
    public let name: String
    let addresses: Set<String>
    let domains: Set<String>
    let domainSuffixes: [String]

    public init(name: String, text: String) {
        self.name = name
        var addresses = Set<String>()
        var domains = Set<String>()
        var suffixes: [String] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            var line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            line = line.trimmingCharacters(in: .whitespaces).lowercased()
            if line.hasSuffix(".") { line.removeLast() }
            guard !line.isEmpty else { continue }
            if line.hasPrefix("@.") {
                suffixes.append(String(line.dropFirst()))
            } else if line.hasPrefix("@") {
                domains.insert(String(line.dropFirst()))
            } else {
                addresses.insert(line)
            }
        }
        self.addresses = addresses
        self.domains = domains
        self.domainSuffixes = suffixes
    }

    /// Whether "local@domain" is listed (by address or by domain).
    public func contains(_ address: String) -> Bool {
        var a = address.lowercased()
        if a.hasSuffix(".") { a.removeLast() }
        if addresses.contains(a) { return true }
        guard let at = a.lastIndex(of: "@") else { return false }
        let domain = String(a[a.index(after: at)...])
        return domains.contains(domain) || domainSuffixes.contains { domain.hasSuffix($0) }
    }

    public var count: Int { addresses.count + domains.count + domainSuffixes.count }

    /// Reads `DIRECTORY/lists/NAME.txt`; errors point at `node`, the place that names the list.
    public static func load(named name: String, rulesDirectory: String, at node: ConfigNode) throws -> AddressList {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw node.error("list names are letters, digits, '-', '_' and '.'")
        }
        let path = "\(rulesDirectory)/lists/\(name).txt"
        do {
            return AddressList(name: name, text: try ConfigFileText.read(path, what: "address list '\(name)'"))
        } catch let e as ConfigError {
            throw node.error(e.reason)
        }
    }
}
