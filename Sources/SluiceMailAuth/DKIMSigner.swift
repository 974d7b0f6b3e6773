// DKIMSigner: DKIM-Signature headers made by libopendkim (RFC 6376; Ed25519
// per RFC 8463). One library handle per key, configured with the header
// names to sign and to oversign; relaxed/relaxed by default; `l=` is never
// used. The caller feeds the final message (header section, then body in
// chunks) and gets back one header line to prepend. No C pointer leaves
// this file; every library error becomes a DKIMError with its message.

import COpenDKIM
import Foundation

public struct DKIMError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum DKIMAlgorithm: String, Sendable, CaseIterable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    var libraryValue: dkim_alg_t {
        switch self {
        case .rsaSHA256: return dkim_alg_t(DKIM_SIGN_RSASHA256)
        case .ed25519SHA256: return dkim_alg_t(DKIM_SIGN_ED25519SHA256)
        }
    }
}

public enum DKIMCanonicalization: String, Sendable {
    case simple, relaxed

    var libraryValue: dkim_canon_t { self == .simple ? dkim_canon_t(DKIM_CANON_SIMPLE) : dkim_canon_t(DKIM_CANON_RELAXED) }
}

public final class DKIMSigner: @unchecked Sendable {
    public struct Key: Sendable {
        public var domain: String
        public var selector: String
        public var algorithm: DKIMAlgorithm
        /// The private key, PEM (PKCS#8 or PKCS#1 for RSA).
        public var privateKeyPEM: String
        public var signedHeaders: [String]
        public var oversignedHeaders: [String]
        public var headerCanonicalization: DKIMCanonicalization
        public var bodyCanonicalization: DKIMCanonicalization

        public init(
            domain: String, selector: String, algorithm: DKIMAlgorithm, privateKeyPEM: String,
            signedHeaders: [String] = DKIMSigner.defaultSignedHeaders, oversignedHeaders: [String] = ["From"],
            headerCanonicalization: DKIMCanonicalization = .relaxed, bodyCanonicalization: DKIMCanonicalization = .relaxed
        ) {
            self.domain = domain
            self.selector = selector
            self.algorithm = algorithm
            self.privateKeyPEM = privateKeyPEM
            self.signedHeaders = signedHeaders
            self.oversignedHeaders = oversignedHeaders
            self.headerCanonicalization = headerCanonicalization
            self.bodyCanonicalization = bodyCanonicalization
        }
    }

    /// Headers a receiver relies on; those absent from a message are not listed in h= (From always is).
    public static let defaultSignedHeaders = [
        "From", "Sender", "Reply-To", "Subject", "Date", "Message-ID", "To", "Cc", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Content-ID", "Content-Description", "In-Reply-To", "References", "List-Id",
        "List-Unsubscribe", "List-Unsubscribe-Post",
    ]

    public let key: Key
    private let library: OpaquePointer
    /// Kept alive for the library, which keeps pointers to the header name lists.
    private let headerLists: [UnsafeMutablePointer<UnsafePointer<CChar>?>]
    /// The key as a C string for the signer's lifetime (the library may keep the pointer until end of message).
    private let keyBytes: UnsafeMutablePointer<CChar>

    public init(key: Key) throws {
        self.key = key
        guard let lib = dkim_init(nil, nil) else { throw DKIMError("libopendkim could not start") }
        library = lib
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

/// Header fields of a header section, each with its folding, without the final CRLF (as libopendkim wants them).
enum HeaderFields {
    static func split(_ header: [UInt8]) -> [[UInt8]] {
        var fields: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i < header.count {
            var end = i
            while end < header.count && header[end] != 10 { end += 1 }
            var line = Array(header[i..<end])
            if line.last == 13 { line.removeLast() }
            i = end + 1
            if line.isEmpty { break }  // the empty line that ends the header section
            if line.first == 32 || line.first == 9, !current.isEmpty {
                current += [13, 10] + line
            } else {
                if !current.isEmpty { fields.append(current) }
                current = line
            }
        }
        if !current.isEmpty { fields.append(current) }
        return fields
    }
}
