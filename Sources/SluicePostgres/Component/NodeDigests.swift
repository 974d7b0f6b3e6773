// NodeDigests: what a node reports so that drift between nodes shows: a
// digest of its configuration file (without its hostname: line, which each
// node has its own), a digest of everything under rules_dir (rule sets,
// lists, DLP profiles) by path and content, and each DKIM key in force with
// a fingerprint of its public key (never the private key).

import Crypto
import Foundation
import SluiceMailAuth

enum NodeDigests {
    static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined().prefix(16).description }

    static func config(file: String) -> String {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            return "unreadable"  // shown as the digest, so the node stands out in cluster status
        }
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter {
            !$0.trimmingCharacters(in: .whitespaces).hasPrefix("hostname:")
        }
        return hex(SHA256.hash(data: Data(kept.joined(separator: "\n").utf8)))
    }

    /// The files under `dir` with their sizes and modification times: the rules digest is computed again only when
    /// these change.
    static func listing(dir: String) -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        guard let walker = FileManager.default.enumerator(atPath: dir) else { return out }
        while let path = walker.nextObject() as? String {
            let full = dir + "/" + path
            // A file gone between the walk and this look is not part of the rules any more.
            guard let a = try? FileManager.default.attributesOfItem(atPath: full), a[.type] as? FileAttributeType == .typeRegular else { continue }
            out[path] = [(a[.size] as? Int) ?? 0, Int(((a[.modificationDate] as? Date) ?? .distantPast).timeIntervalSince1970 * 1000)]
        }
        return out
    }

    static func rules(dir: String, files: [String]) -> String {
        var hash = SHA256()
        for path in files.sorted() {
            hash.update(data: Data(path.utf8 + [0]))
            hash.update(data: FileManager.default.contents(atPath: dir + "/" + path) ?? Data())
            hash.update(data: Data([0]))
        }
        return hex(hash.finalize())
    }

    static func dkim(_ keys: [DKIMKeyRecord]) -> [String] {
        keys.map { k in
            let key: String
            if k.state == .retired {
                key = "-"
            } else if let pem = k.privateKeyPEM {
                do {
                    let txt = try DKIMKeys.txtRecord(privateKeyPEM: pem, algorithm: DKIMAlgorithm(k.algorithm))
                    key = hex(SHA256.hash(data: Data((DKIMTags.parse(txt)["p"] ?? txt).utf8)))
                } catch {
                    key = "unusable"  // the runtime refuses such a key; the report says so instead of a fingerprint
                }
            } else {
                key = "missing"
            }
            return "\(k.name) \(k.state.rawValue) \(key)"
        }.sorted()
    }
}
