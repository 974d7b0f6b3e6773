// OpenDKIMSigner: DKIM-Signature headers made by libopendkim, the reference
// our own signer (DKIMSigner) is checked against byte for byte, and the
// signer `sluice dkim bench` compares with. libopendkim parses the PEM key
// again for every signature (about 1 ms with OpenSSL 3: more than the RSA
// signature itself), which is why the daemon does not sign with it. One
// library handle per key, configured with the header names to sign and to
// oversign. No C pointer leaves this file; every library error becomes a
// DKIMError with its message.

import COpenDKIM
import Foundation

extension DKIMAlgorithm {
    var libraryValue: dkim_alg_t {
        switch self {
        case .rsaSHA256: return dkim_alg_t(DKIM_SIGN_RSASHA256)
        case .ed25519SHA256: return dkim_alg_t(DKIM_SIGN_ED25519SHA256)
        }
    }
}

extension DKIMCanonicalization {
    var libraryValue: dkim_canon_t { self == .simple ? dkim_canon_t(DKIM_CANON_SIMPLE) : dkim_canon_t(DKIM_CANON_RELAXED) }
}

public final class OpenDKIMSigner: @unchecked Sendable {
    public typealias Key = DKIMSigner.Key

    public let key: Key
    private let library: OpaquePointer
    /// Kept alive for the library, which keeps pointers to the header name lists.
    private let headerLists: [UnsafeMutablePointer<UnsafePointer<CChar>?>]
    /// The key as a C string for the signer's lifetime (the library may keep the pointer until end of message).
    private let keyBytes: UnsafeMutablePointer<CChar>

    /// `fixedTime`: the t= of every signature (for comparisons); the current time when nil.
    public init(key: Key, fixedTime: UInt64? = nil) throws {
        self.key = key
        guard let lib = dkim_init(nil, nil) else { throw DKIMError("libopendkim could not start") }
        library = lib
        if var t = fixedTime {
            guard dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &t, MemoryLayout<UInt64>.size) == DKIM_STAT_OK else {
                throw DKIMError("libopendkim refused a fixed time")
            }
        }
        keyBytes = strdup(key.privateKeyPEM)
        func list(_ names: [String]) -> UnsafeMutablePointer<UnsafePointer<CChar>?> {
            let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: names.count + 1)
            for (i, n) in names.enumerated() { array[i] = UnsafePointer(strdup(n.lowercased())) }
            array[names.count] = nil
            return array
        }
        let signed = list(key.signedHeaders)
        let oversigned = list(key.oversignedHeaders)
        headerLists = [signed, oversigned]
        // Like opendkim's own milter: the option value is the NULL-terminated array itself.
        let size = MemoryLayout<UnsafeMutablePointer<UnsafePointer<CChar>?>>.size
        guard dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, signed, size) == DKIM_STAT_OK,
            dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, oversigned, size) == DKIM_STAT_OK
        else {
            throw DKIMError("libopendkim refused the header lists")
        }
        // Fail early on a bad key: sign an empty message once.
        _ = try sign(id: "key-check", header: Array("From: a@\(key.domain)\r\n\r\n".utf8)) { _ in }
    }

    deinit {
        dkim_close(library)
        free(keyBytes)
        for l in headerLists {
            var i = 0
            while let p = l[i] {
                free(UnsafeMutableRawPointer(mutating: p))
                i += 1
            }
            l.deallocate()
        }
    }

    /// Signs a message. `header`: its header section (through the empty line), CRLF line endings;
    /// `body` is called with a feeder the caller uses for the body in chunks. Returns the whole
    /// "DKIM-Signature: ..." header, folded, without the final CRLF.
    public func sign(id: String, header: [UInt8], body: (([UInt8]) throws -> Void) throws -> Void) throws -> String {
        var status = DKIM_STAT(DKIM_STAT_OK)
        let secret = UnsafeMutableRawPointer(keyBytes).assumingMemoryBound(to: UInt8.self)
        let handle = dkim_sign(
            library, id, nil, secret, key.selector, key.domain, key.headerCanonicalization.libraryValue,
            key.bodyCanonicalization.libraryValue, key.algorithm.libraryValue, -1, &status)
        guard let dkim = handle else { throw DKIMError("cannot start signing: \(Self.describe(status))") }
        defer { dkim_free(dkim) }
        try check(dkim, status, "signing")
        for field in HeaderFields.split(header) {
            var bytes = field
            try check(dkim, bytes.withUnsafeMutableBufferPointer { dkim_header(dkim, $0.baseAddress, $0.count) }, "header")
        }
        try check(dkim, dkim_eoh(dkim), "end of header")
        try body { chunk in
            var bytes = chunk
            try self.check(dkim, bytes.withUnsafeMutableBufferPointer { dkim_body(dkim, $0.baseAddress, $0.count) }, "body")
        }
        try check(dkim, dkim_eom(dkim, nil), "end of message")
        let prefix = "DKIM-Signature: "
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        try check(dkim, dkim_getsighdr_d(dkim, prefix.utf8.count, &out, &length), "signature header")
        guard let out else { throw DKIMError("libopendkim returned no signature") }
        let value = String(decoding: UnsafeBufferPointer(start: out, count: length), as: UTF8.self)
        // libopendkim folds with "\n\t"; on the wire every line ends in CRLF.
        return prefix + value.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
    }

    private func check(_ dkim: OpaquePointer, _ status: DKIM_STAT, _ step: String) throws {
        guard status == DKIM_STAT_OK else {
            let detail = dkim_geterror(dkim).map { String(cString: $0) }
            throw DKIMError("\(step): \(Self.describe(status))\(detail.map { " (\($0))" } ?? "")")
        }
    }

    static func describe(_ status: DKIM_STAT) -> String {
        dkim_getresultstr(status).map { String(cString: $0) } ?? "status \(status)"
    }
}
