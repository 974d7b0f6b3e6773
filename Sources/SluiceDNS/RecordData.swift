// RecordData: decodes the rdata of the record types Sluice asks for from the
// DNS wire format (RFC 1035 §3.3) that the resolver library hands back.
// Pure: bytes in, records out; malformed rdata is an error, never a crash.

import SluiceCore

public enum RecordData {
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    public static func decode(_ type: DNSRecordType, _ rdata: [UInt8]) throws(Malformed) -> DNSRecord {
        switch type {
        case .a, .aaaa:
            guard rdata.count == (type == .a ? 4 : 16), let ip = IPAddress(bytes: rdata) else {
                throw Malformed(description: "\(type) rdata of \(rdata.count) bytes")
            }
            return type == .a ? .a(ip.description) : .aaaa(ip.description)
        case .mx:
            guard rdata.count >= 3 else { throw Malformed(description: "MX rdata of \(rdata.count) bytes") }
            let preference = Int(rdata[0]) << 8 | Int(rdata[1])
            var offset = 2
            let name = try domainName(rdata, at: &offset)
            return .mx(MXRecord(preference: preference, exchange: name))
        case .ptr:
            var offset = 0
            return .ptr(try domainName(rdata, at: &offset))
        case .txt:
            var strings: [String] = []
            var i = 0
            while i < rdata.count {
                let length = Int(rdata[i])
                guard i + 1 + length <= rdata.count else { throw Malformed(description: "TXT string runs past the rdata") }
                strings.append(String(decoding: rdata[(i + 1)..<(i + 1 + length)], as: UTF8.self))
                i += 1 + length
            }
            return .txt(strings)
        case .tlsa:
            guard rdata.count >= 4 else { throw Malformed(description: "TLSA rdata of \(rdata.count) bytes") }
            return .tlsa(TLSARecord(usage: rdata[0], selector: rdata[1], matchingType: rdata[2], data: Array(rdata[3...])))
        }
    }

    /// An uncompressed domain name (the resolver library expands compression pointers), without the trailing dot.
    static func domainName(_ bytes: [UInt8], at offset: inout Int) throws(Malformed) -> String {
        var labels: [String] = []
        while true {
            guard offset < bytes.count else { throw Malformed(description: "domain name runs past the rdata") }
            let length = Int(bytes[offset])
            offset += 1
            if length == 0 { break }
            guard length < 64, offset + length <= bytes.count else { throw Malformed(description: "bad label length \(length)") }
            labels.append(String(decoding: bytes[offset..<(offset + length)], as: UTF8.self))
            offset += length
        }
        return labels.joined(separator: ".")
    }
}
