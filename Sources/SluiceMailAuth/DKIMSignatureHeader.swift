// The DKIM-Signature header field as text (RFC 6376 §3.5): its tags in the
// order libopendkim writes them, folded at 75 columns the way libopendkim
// folds them (h= broken at colons, bh= and b= broken anywhere, b= of an RSA
// signature always on lines of its own), so that a signature of ours and
// libopendkim's for the same key, message and time are the same bytes. Pure.

public struct DKIMSignatureHeader: Sendable {
    public static let name = "DKIM-Signature"
    static let margin = 75

    public var algorithm: DKIMAlgorithm
    public var headerCanonicalization: DKIMCanonicalization
    public var bodyCanonicalization: DKIMCanonicalization
    public var domain: String
    public var selector: String
    public var timestamp: Int
    /// bh=, base64.
    public var bodyHash: String
    /// h=: the names of the signed fields in message order, then the oversigned names.
    public var signedFields: [String]
    /// Length of an RSA signature in base64 (its b= always starts a line), nil for Ed25519.
    public var rsaSignatureLength: Int?

    /// The field without its final CRLF, with b= set to `signature` (base64).
    public func field(signature: String) -> String {
        String(decoding: layout(signature: Array(signature.utf8)).field, as: UTF8.self)
    }

    /// The field as the signature covers it (RFC 6376 §3.7): laid out as it will be sent with a signature of
    /// `signatureLength` base64 characters, then cut after "b=" (the value and its folding deleted).
    public func fieldForHashing(signatureLength: Int) -> [UInt8] {
        let (field, valueStart) = layout(signature: [UInt8](repeating: 0x41, count: signatureLength))
        return Array(field[..<valueStart])
    }

    /// Tags separated by a space while the line has room, else by CRLF TAB; and where b='s value starts.
    func layout(signature: [UInt8]) -> (field: [UInt8], valueStart: Int) {
        let c = "\(headerCanonicalization.rawValue)/\(bodyCanonicalization.rawValue)"
        let tags: [(String, [UInt8])] = [
            ("v", Array("1;".utf8)), ("a", Array("\(algorithm.rawValue);".utf8)), ("c", Array("\(c);".utf8)),
            ("d", Array("\(domain);".utf8)), ("s", Array("\(selector);".utf8)), ("t", Array("\(timestamp);".utf8)),
            ("bh", Array("\(bodyHash);".utf8)), ("h", Array("\(signedFields.joined(separator: ":"));".utf8)), ("b", signature),
        ]
        var out = Array("\(Self.name): ".utf8)
        out.reserveCapacity(out.count + tags.reduce(0) { $0 + $1.0.count + $1.1.count + 8 } + 64)
        var column = out.count
        var valueStart = 0
        for (index, (name, value)) in tags.enumerated() {
            let length = name.count + 1 + value.count
            let signatureOnItsOwnLine = rsaSignatureLength.map { name == "b" && column + name.count + $0 + 1 >= Self.margin } ?? false
            if index == 0 || !(signatureOnItsOwnLine || column + length > Self.margin) {
                if index > 0 {
                    out.append(0x20)
                    column += 1
                }
                out += Array(name.utf8) + [0x3D]
                valueStart = out.count
                out += value
                column += length
                continue
            }
            out += [13, 10, 9]
            column = 8
            out += Array(name.utf8) + [0x3D]
            column += name.count + 1
            valueStart = out.count
            switch name {
            case "h": appendNames(value, to: &out, column: &column)
            case "b", "bh": appendBase64(value, to: &out, column: &column)
            default:
                out += value
                column += value.count
            }
        }
        return (out, valueStart)
    }

    /// h= on a line of its own: broken after a colon where the next name would pass the margin.
    private func appendNames(_ value: [UInt8], to out: inout [UInt8], column: inout Int) {
        for (index, name) in value.split(separator: 0x3A).enumerated() {
            if index == 0 {
                out += name
                column += name.count
            } else if column + name.count + 1 > Self.margin {
                out += [0x3A, 13, 10, 9, 0x20]
                out += name
                column = 9 + name.count
            } else {
                out.append(0x3A)
                out += name
                column += 1 + name.count
            }
        }
    }

    /// bh= or b= on a line of its own: the value cut at the margin, continued after CRLF TAB SPACE.
    private func appendBase64(_ value: [UInt8], to out: inout [UInt8], column: inout Int) {
        guard let first = value.first else { return }
        out.append(first)
        column += 1
        var rest = value[1...]
        while !rest.isEmpty {
            if column == Self.margin {
                out += [13, 10, 9, 0x20]
                column = 9
            }
            let n = min(Self.margin - column, rest.count)
            out += rest.prefix(n)
            rest = rest.dropFirst(n)
            column += n
        }
    }
}
