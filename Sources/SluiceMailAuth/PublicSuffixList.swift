// PublicSuffixList: organizational domains (RFC 7489 §3.2) from the Public
// Suffix List, as Debian's `publicsuffix` package installs it. Rules with
// wildcards ("*.ck") and exceptions ("!www.ck") follow the list's algorithm.
// Without the file, the last two labels are the organizational domain (wrong
// for co.uk): `sluice check` and the daemon's start warn, and the Debian
// package depends on publicsuffix.

import Foundation

public struct PublicSuffixList: Sendable {
    public static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    let rules: Set<String>
    let wildcards: Set<String>
    let exceptions: Set<String>

    public init(text: String) {
        var rules: Set<String> = []
        var wildcards: Set<String> = []
        var exceptions: Set<String> = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.split(separator: " ").first.map(String.init) ?? ""
            if line.isEmpty || line.hasPrefix("//") { continue }
            let rule = line.lowercased()
            if rule.hasPrefix("!") {
                exceptions.insert(String(rule.dropFirst()))
            } else if rule.hasPrefix("*.") {
                wildcards.insert(String(rule.dropFirst(2)))
            } else {
                rules.insert(rule)
            }
        }
        self.rules = rules
        self.wildcards = wildcards
        self.exceptions = exceptions
    }

    /// The list installed by Debian's publicsuffix package, or an empty list (two-label fallback).
    public static func system() -> PublicSuffixList { load().list }

    /// The list at `path`, and why it could not be read (then the list is empty: the two-label fallback).
    public static func load(_ path: String = debianPath) -> (list: PublicSuffixList, problem: String?) {
        do {
            return (PublicSuffixList(text: try String(contentsOfFile: path, encoding: .utf8)), nil)
        } catch {
            return (PublicSuffixList(text: ""), "cannot read the Public Suffix List \(path) (\(error.localizedDescription))")
        }
    }

    /// The number of labels of the public suffix of `domain` (at least 1: the TLD, "*" rule).
    func suffixLength(_ labels: [String]) -> Int {
        var best = 1
        for n in 1...labels.count {
            let candidate = labels.suffix(n).joined(separator: ".")
            if exceptions.contains(candidate) { return n - 1 }
            if rules.contains(candidate) { best = max(best, n) }
            // "*.ck" makes "anything.ck" a public suffix.
            if wildcards.contains(candidate), n < labels.count { best = max(best, n + 1) }
        }
        return best
    }

    /// The organizational domain: the public suffix plus one label ("mail.example.co.uk" -> "example.co.uk").
    public func organizationalDomain(_ domain: String) -> String {
        let labels = domain.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ".")).split(separator: ".").map(String.init)
        guard !labels.isEmpty else { return domain.lowercased() }
        let suffix = rules.isEmpty && wildcards.isEmpty ? 1 : suffixLength(labels)
        return labels.suffix(min(labels.count, suffix + 1)).joined(separator: ".")
    }
}
