// DKIMVerifier: verifies every DKIM-Signature of a message with libopendkim
// (RFC 6376). Keys come through the resolver component: the selectors named
// by the signatures are looked up first (asynchronously), then libopendkim
// verifies synchronously, asking a callback that answers from those results.
// Each signature gets its own verdict: pass, fail, neutral (unusable
// signature), temperror (DNS trouble) or permerror (no key, bad key record).

import COpenDKIM
import Foundation
import SluiceCore

public struct DKIMResult: Sendable, Hashable {
    public enum Verdict: String, Sendable {
        case pass, fail, neutral, temperror, permerror
        /// No signature at all (only as the summary of a message).
        case none
    }

    public var verdict: Verdict
    public var domain: String
    public var selector: String
    public var algorithm: String
    /// The first characters of b=, to tell signatures apart in Authentication-Results (RFC 6008).
    public var signaturePrefix: String
    public var reason: String?
}

/// The tags of a DKIM-Signature or key record ("v=1; a=rsa-sha256; d=..."), whitespace removed from values.
public enum DKIMTags {
    public static func parse(_ value: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in value.split(separator: ";") {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let name = part[..<eq].trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            let v = part[part.index(after: eq)...].filter { !$0.isWhitespace && !$0.isNewline }
            if !name.isEmpty && out[name] == nil { out[name] = String(v) }
        }
        return out
    }
}

public final class DKIMVerifier: @unchecked Sendable {
    private let library: OpaquePointer
    let resolver: any DNSResolver

    public init(resolver: any DNSResolver) throws {
        guard let lib = dkim_init(nil, nil) else { throw DKIMError("libopendkim could not start") }
        library = lib
        self.resolver = resolver
        // A handle for every signature, even unusable ones, so each gets a verdict.
        var flags = UInt32(DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_FIXCRLF)
        _ = dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, MemoryLayout<UInt32>.size)
        dkim_set_key_lookup(lib, keyLookup)
    }

    deinit { dkim_close(library) }

    /// The key records of the selectors the signatures name, looked up through the resolver.
    public func fetchKeys(header: [UInt8]) async -> KeyAnswers {
        var answers = KeyAnswers()
        for field in HeaderFields.split(header) {
            let text = String(decoding: field, as: UTF8.self)
            guard text.lowercased().hasPrefix("dkim-signature:") else { continue }
            let tags = DKIMTags.parse(String(text.dropFirst("dkim-signature:".count)))
            guard let d = tags["d"], let s = tags["s"] else { continue }
            let name = "\(s)._domainkey.\(d)".lowercased()
            if answers.byName[name] != nil { continue }
            do {
                let answer = try await resolver.lookup(name, .txt)
                let keys = answer.texts.filter { !$0.isEmpty }
                answers.byName[name] = keys.isEmpty ? .missing : .found(keys[0])
            } catch {
                answers.byName[name] = error.temporary ? .temporary(error.message) : .missing
            }
        }
        return answers
    }

    public struct KeyAnswers: Sendable {
        enum Answer: Sendable {
            case found(String)
            case missing
            case temporary(String)
        }
        var byName: [String: Answer] = [:]
    }

    /// Verifies with keys fetched before (blocking: run it off the event loop).
    public func verify(
        id: String, header: [UInt8], keys: KeyAnswers, body: (([UInt8]) throws -> Void) throws -> Void
    ) throws -> [DKIMResult] {
        var status = DKIM_STAT(DKIM_STAT_OK)
        guard let dkim = dkim_verify(library, id, nil, &status) else {
            throw DKIMError("cannot start verifying: \(OpenDKIMSigner.describe(status))")
        }
        defer { dkim_free(dkim) }
        let box = Unmanaged.passRetained(KeyBox(keys))
        defer { box.release() }
        dkim_set_user_context(dkim, box.toOpaque())
        for field in HeaderFields.split(header) {
            var bytes = field
            let status = bytes.withUnsafeMutableBufferPointer { dkim_header(dkim, $0.baseAddress, $0.count) }
            // A field libopendkim cannot parse (SYNTAX) is judged through the signatures it spoils.
            try Self.check(status, "dkim_header", accepting: [DKIM_STAT_SYNTAX])
        }
        let eoh = dkim_eoh(dkim)
        if eoh == DKIM_STAT_NOSIG { return [] }
        // Unusable signatures and keys are verdicts of their own, read from the signature list below.
        try Self.check(eoh, "dkim_eoh", accepting: Self.verdictStatuses)
        try body { chunk in
            var bytes = chunk
            let status = bytes.withUnsafeMutableBufferPointer { dkim_body(dkim, $0.baseAddress, $0.count) }
            try Self.check(status, "dkim_body", accepting: [])
        }
        try Self.check(dkim_eom(dkim, nil), "dkim_eom", accepting: Self.verdictStatuses)
        var list: UnsafeMutablePointer<OpaquePointer?>?
        var count: Int32 = 0
        guard dkim_getsiglist(dkim, &list, &count) == DKIM_STAT_OK, let list else { return [] }
        var results: [DKIMResult] = []
        for i in 0..<Int(count) {
            guard let sig = list[i] else { continue }
            results.append(result(dkim, sig, keys: keys))
        }
        return results
    }

    /// Statuses that describe the message's signatures (each signature's own verdict says which), as opposed
    /// to the verifier failing to run.
    static let verdictStatuses: [Int32] = [
        DKIM_STAT_BADSIG, DKIM_STAT_NOSIG, DKIM_STAT_NOKEY, DKIM_STAT_CANTVRFY, DKIM_STAT_SYNTAX, DKIM_STAT_REVOKED,
        DKIM_STAT_KEYFAIL, DKIM_STAT_MULTIDNSREPLY, DKIM_STAT_CBTRYAGAIN,
    ]

    /// Every libopendkim call goes through here: OK and the listed statuses go on; anything else (no memory,
    /// an internal error, a call in the wrong state) means nothing it says can be trusted, and throws.
    static func check(_ status: DKIM_STAT, _ call: String, accepting: [Int32]) throws {
        guard status != DKIM_STAT_OK, !accepting.contains(Int32(status)) else { return }
        throw DKIMError("\(call): \(OpenDKIMSigner.describe(status))")
    }

    private func result(_ dkim: OpaquePointer, _ sig: OpaquePointer, keys: KeyAnswers) -> DKIMResult {
        let domain = dkim_sig_getdomain(sig).map { String(cString: $0) } ?? ""
        let selector = dkim_sig_getselector(sig).map { String(cString: $0) } ?? ""
        var alg = dkim_alg_t(-1)
        let known = dkim_sig_getsignalg(sig, &alg) == DKIM_STAT_OK
        let algorithm =
            !known ? "" : alg == dkim_alg_t(DKIM_SIGN_ED25519SHA256) ? "ed25519-sha256" : alg == dkim_alg_t(DKIM_SIGN_RSASHA1) ? "rsa-sha1" : "rsa-sha256"
        var b = [CChar](repeating: 0, count: 16)
        var blen = b.count
        let prefix =
            dkim_get_sigsubstring(dkim, sig, &b, &blen) == DKIM_STAT_OK
            ? String(decoding: b.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let flags = dkim_sig_getflags(sig)
        let error = dkim_sig_geterror(sig)
        let reason = error == DKIM_SIGERROR_OK ? nil : dkim_sig_geterrorstr(DKIM_SIGERROR(error)).map { String(cString: $0) }
        var verdict: DKIMResult.Verdict
        let keyAnswer = keys.byName["\(selector)._domainkey.\(domain)".lowercased()]
        if flags & UInt32(DKIM_SIGFLAG_PASSED) != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH {
            verdict = .pass
        } else if case .temporary = keyAnswer {
            verdict = .temperror  // RFC 6376 §6.1.2: the key could not be fetched for now
        } else if error == DKIM_SIGERROR_KEYFAIL {
            verdict = .temperror
        } else if error == DKIM_SIGERROR_NOKEY || error == DKIM_SIGERROR_DNSSYNTAX || error == DKIM_SIGERROR_MULTIREPLY
            || (error >= DKIM_SIGERROR_KEYVERSION && error <= DKIM_SIGERROR_KEYDECODE)
        {
            verdict = .permerror
        } else if flags & UInt32(DKIM_SIGFLAG_PROCESSED) != 0 || error == DKIM_SIGERROR_BADSIG {
            verdict = .fail
        } else {
            verdict = .neutral
        }
        return DKIMResult(verdict: verdict, domain: domain, selector: selector, algorithm: algorithm, signaturePrefix: prefix, reason: reason)
    }
}

final class KeyBox {
    let answers: DKIMVerifier.KeyAnswers
    init(_ a: DKIMVerifier.KeyAnswers) { answers = a }
}

/// libopendkim's key lookup: answers from the records fetched before verification.
private let keyLookup: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<UInt8>?, Int) -> DKIM_CBSTAT = {
    dkim, sig, buf, buflen in
    guard let dkim, let sig, let buf, let context = dkim_get_user_context(dkim) else { return DKIM_CBSTAT(DKIM_CBSTAT_ERROR) }
    let box = Unmanaged<KeyBox>.fromOpaque(context).takeUnretainedValue()
    let d = dkim_sig_getdomain(sig).map { String(cString: $0) } ?? ""
    let s = dkim_sig_getselector(sig).map { String(cString: $0) } ?? ""
    switch box.answers.byName["\(s)._domainkey.\(d)".lowercased()] {
    case .found(let record):
        let bytes = Array(record.utf8)
        guard bytes.count < buflen else { return DKIM_CBSTAT(DKIM_CBSTAT_ERROR) }
        for (i, b) in bytes.enumerated() { buf[i] = b }
        buf[bytes.count] = 0
        return DKIM_CBSTAT(DKIM_CBSTAT_CONTINUE)
    case .temporary:
        return DKIM_CBSTAT(DKIM_CBSTAT_TRYAGAIN)
    case .missing, .none:
        return DKIM_CBSTAT(DKIM_CBSTAT_NOTFOUND)
    }
}
