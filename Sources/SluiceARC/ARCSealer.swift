// ARCSealer: adds this hop's ARC set (RFC 8617 §5.1) to a message as it
// leaves: ARC-Authentication-Results (this hop's Authentication-Results,
// with i=), ARC-Message-Signature (a DKIM-style signature of the message as
// it leaves, relaxed/relaxed, with the domain's active key and our own
// canonicalization) and ARC-Seal over every ARC set, cv= saying what this hop
// found of the chain it received. A broken chain is sealed cv=fail over this
// hop's set alone; there is no instance above 50, and a chain that cannot
// be read is not sealed.

import Crypto
import Foundation
import SluiceMailAuth

public struct ARCSealer: Sendable {
    public let signer: DKIMSigner
    /// The fields the message signature covers (those present), as DKIM signs them.
    static let signedHeaders = DKIMSigner.defaultSignedHeaders + ["DKIM-Signature"]

    public init(signer: DKIMSigner) { self.signer = signer }

    public enum Failure: Error, CustomStringConvertible {
        case tooMany
        case broken(String)

        public var description: String {
            switch self {
            case .tooMany: return "the message already has 50 ARC sets"
            case .broken(let why): return why
            }
        }
    }

    /// The three fields to put on top of the message (ARC-Seal first), each without its final CRLF.
    /// `header`: the header section as it leaves; `results`: this hop's authentication results
    /// ("spf=pass smtp.mailfrom=...", "arc=pass"), `chain`: what this hop found of the chain it received.
    public func seal(
        header: [UInt8], authservID: String, results: [String], chain: ARCResults.Status, time: Int,
        body: (([UInt8]) throws -> Void) throws -> Void
    ) throws -> [String] {
        let fields = HeaderFields.split(header)
        // A chain that cannot even be read has no instance to follow: not sealed (a seal needs i= above the last).
        let existing: ARCChain
        do { existing = try ARCChain.read(fields) } catch { throw Failure.broken("the ARC chain it carries cannot be read (\(error)); not sealed") }
        let instance = existing.sets.count + 1
        guard instance <= 50 else { throw Failure.tooMany }
        let cv = instance == 1 ? "none" : (chain == .pass ? "pass" : "fail")
        let d = signer.key.domain
        let s = signer.key.selector

        let aar = "ARC-Authentication-Results: i=\(instance); \(authservID);" + (results.isEmpty ? " none" : "\r\n\t" + results.joined(separator: ";\r\n\t"))

        // ARC-Message-Signature: the body hash, then the signed fields, then itself without b=.
        var bodyHash = SHA256()
        var canonicalizer = DKIMBodyCanonicalizer(.relaxed)
        try body { chunk in chunk.withUnsafeBytes { canonicalizer.update($0) { bodyHash.update(bufferPointer: $0) } } }
        canonicalizer.finish { bodyHash.update(bufferPointer: $0) }
        let lowered = fields.map { ARCVerifier.name($0) }
        let wanted = Set(Self.signedHeaders.map { $0.lowercased() })
        let signed = fields.indices.filter { wanted.contains(lowered[$0]) }
        guard signed.contains(where: { lowered[$0] == "from" }) else { throw Failure.broken("the message has no From field") }
        var headerHash = SHA256()
        var taken = Set<Int>()
        var names: [String] = []
        for i in signed {
            guard let pick = signed.last(where: { lowered[$0] == lowered[i] && !taken.contains($0) }) else { continue }
            taken.insert(pick)
            names.append(lowered[i])
            headerHash.update(data: DKIMHeaderCanonicalizer.canonicalize(fields[pick], .relaxed))
        }
        let amsHead =
            "ARC-Message-Signature: i=\(instance); a=rsa-sha256; c=relaxed/relaxed; d=\(d); s=\(s); t=\(time);\r\n\th=\(names.joined(separator: ":"));\r\n\tbh=\(Data(bodyHash.finalize()).base64EncodedString());\r\n\tb="
        headerHash.update(data: DKIMHeaderCanonicalizer.canonicalize(Array(amsHead.utf8), .relaxed, crlf: false))
        let ams = amsHead + Self.folded(try signer.sign(digest: Array(headerHash.finalize())))

        // ARC-Seal: every set in order (only this hop's when the chain failed), its own without b=.
        let asHead = "ARC-Seal: i=\(instance); a=rsa-sha256; cv=\(cv); d=\(d); s=\(s); t=\(time);\r\n\tb="
        var sealHash = SHA256()
        if cv != "fail" {
            for set in existing.sets {
                for field in [set.results, set.messageSignature, set.seal] {
                    sealHash.update(data: DKIMHeaderCanonicalizer.canonicalize(field, .relaxed))
                }
            }
        }
        sealHash.update(data: DKIMHeaderCanonicalizer.canonicalize(Array(aar.utf8), .relaxed))
        sealHash.update(data: DKIMHeaderCanonicalizer.canonicalize(Array(ams.utf8), .relaxed))
        sealHash.update(data: DKIMHeaderCanonicalizer.canonicalize(Array(asHead.utf8), .relaxed, crlf: false))
        let seal = asHead + Self.folded(try signer.sign(digest: Array(sealHash.finalize())))
        return [seal, ams, aar]
    }

    /// A signature in base64, on lines of 70 characters (folding whitespace, which relaxed canonicalization drops).
    static func folded(_ signature: [UInt8]) -> String {
        let text = Data(signature).base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            lines.append(rest.prefix(70))
            rest = rest.dropFirst(70)
        }
        return lines.joined(separator: "\r\n\t ")
    }
}
