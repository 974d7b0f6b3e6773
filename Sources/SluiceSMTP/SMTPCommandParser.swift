// SMTPCommandParser: turns one command line (without CRLF) into an SMTPCommand,
// or into the exact reply a client gets for a bad one. Pure; fuzzed.

import SluiceCore

public enum SMTPCommandParser {
    /// `utf8Recipients`: the transaction declared SMTPUTF8, so RCPT may carry UTF-8.
    public static func parse(_ line: some Collection<UInt8>, utf8Recipients: Bool = false) throws(SMTPError) -> SMTPCommand {
        guard let text = String(validating: line, as: UTF8.self) else {
            throw SMTPError(500, .init(5, 5, 2), "Error: command contains invalid UTF-8")
        }
        if line.contains(0) {
            throw SMTPError(500, .init(5, 5, 2), "Error: command contains NUL")
        }
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        let rest = text[verbEnd...].drop(while: { $0 == " " })

        switch verb {
        case "EHLO", "HELO":
            let name = rest.trimmingTrailingSpaces()
            guard !name.isEmpty, !name.contains(" ") else {
                throw SMTPError(501, .init(5, 5, 4), "Syntax: \(verb) hostname")
            }
            guard name.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw SMTPError(501, .init(5, 5, 4), "Error: invalid characters in \(verb) hostname")
            }
            return verb == "EHLO" ? .ehlo(String(name)) : .helo(String(name))
        case "MAIL":
            let (path, params) = try splitPath(rest, keyword: "FROM:", usage: "Syntax: MAIL FROM:<address>")
            let parameters = try parseMailParameters(params)
            do {
                let sender = try AddressParser.parseReversePath(path, allowUTF8: parameters.smtpUTF8)
                return .mail(sender: sender, parameters: parameters)
            } catch {
                throw addressError(error, sender: true)
            }
        case "RCPT":
            let (path, params) = try splitPath(rest, keyword: "TO:", usage: "Syntax: RCPT TO:<address>")
            let parameters = try parseRecipientParameters(params)
            // RFC 5321 §4.5.1: "<Postmaster>" without a domain must be accepted; the session
            // gives it the server's own name.
            if path.lowercased() == "<postmaster>" {
                return .rcpt(recipient: MailAddress(localPart: "postmaster", domain: ""), parameters: parameters)
            }
            do {
                let recipient = try AddressParser.parsePath(path, allowUTF8: utf8Recipients)
                return .rcpt(recipient: recipient, parameters: parameters)
            } catch {
                throw addressError(error, sender: false)
            }
        case "DATA":
            guard rest.isEmpty else { throw SMTPError(501, .init(5, 5, 4), "Syntax: DATA") }
            return .data
        case "BDAT":
            let args = rest.split(separator: " ")
            guard (1...2).contains(args.count), let size = Int(args[0]), size >= 0,
                args.count == 1 || args[1].uppercased() == "LAST"
            else { throw SMTPError(501, .init(5, 5, 4), "Syntax: BDAT size [LAST]") }
            return .bdat(size: size, last: args.count == 2)
        case "RSET":
            guard rest.isEmpty else { throw SMTPError(501, .init(5, 5, 4), "Syntax: RSET") }
            return .rset
        case "NOOP": return .noop
        case "QUIT": return .quit
        case "VRFY", "EXPN": return .vrfy
        case "HELP": return .help
        case "STARTTLS":
            guard rest.isEmpty else { throw SMTPError(501, .init(5, 5, 4), "Syntax: STARTTLS") }
            return .starttls
        case "AUTH":
            let args = rest.split(separator: " ")
            guard (1...2).contains(args.count) else {
                throw SMTPError(501, .init(5, 5, 4), "Syntax: AUTH mechanism [initial-response]")
            }
            return .auth(mechanism: args[0].uppercased(), initialResponse: args.count == 2 ? String(args[1]) : nil)
        default:
            throw SMTPError(500, .init(5, 5, 2), "Error: command not recognized")
        }
    }

    /// Splits "FROM:<path> PARAM=V ..." into the path and its parameters.
    /// Accepts one space after the colon, which many clients send.
    static func splitPath(_ rest: Substring, keyword: String, usage: String) throws(SMTPError) -> (Substring, [Substring]) {
        guard rest.uppercased().hasPrefix(keyword) else { throw SMTPError(501, .init(5, 5, 4), usage) }
        var s = rest.dropFirst(keyword.count)
        if s.first == " " { s = s.dropFirst() }
        guard !s.isEmpty else { throw SMTPError(501, .init(5, 5, 4), usage) }
        var end = s.startIndex
        if s.first == "<" {
            var inQuote = false
            var escaped = false
            var found = false
            while end < s.endIndex {
                let ch = s[end]
                if escaped {
                    escaped = false
                } else if ch == "\\" && inQuote {
                    escaped = true
                } else if ch == "\"" {
                    inQuote.toggle()
                } else if ch == ">" && !inQuote {
                    end = s.index(after: end)
                    found = true
                    break
                }
                end = s.index(after: end)
            }
            guard found else { throw SMTPError(501, .init(5, 1, 7), "Error: bad address syntax: missing '>'") }
        } else {
            end = s.firstIndex(of: " ") ?? s.endIndex
        }
        let path = s[s.startIndex..<end]
        let params = s[end...].split(separator: " ")
        return (path, params)
    }

    static func addressError(_ error: AddressError, sender: Bool) -> SMTPError {
        let status: EnhancedStatus = sender ? .init(5, 1, 7) : .init(5, 1, 3)
        switch error {
        case .nonASCIIWithoutSMTPUTF8:
            return SMTPError(553, .init(5, 6, 7), "Error: non-ASCII address requires SMTPUTF8")
        case .tooLong:
            return SMTPError(501, status, "Error: address too long")
        case .syntax(let why):
            return SMTPError(501, status, "Error: bad \(sender ? "sender" : "recipient") address syntax: \(why)")
        }
    }

    /// Splits "KEY=value" parameters (keys uppercased); a key given twice is an error.
    static func keyedParameters(_ params: [Substring]) throws(SMTPError) -> [(String, Substring?)] {
        var seen = Set<String>()
        var out: [(String, Substring?)] = []
        for raw in params {
            let key: String
            var value: Substring?
            if let eq = raw.firstIndex(of: "=") {
                key = raw[..<eq].uppercased()
                value = raw[raw.index(after: eq)...]
            } else {
                key = raw.uppercased()
            }
            guard seen.insert(key).inserted else {
                throw SMTPError(501, .init(5, 5, 4), "Error: duplicate \(key) parameter")
            }
            out.append((key, value))
        }
        return out
    }

    static func parseMailParameters(_ params: [Substring]) throws(SMTPError) -> MailParameters {
        var p = MailParameters()
        for (key, value) in try keyedParameters(params) {
            switch (key, value) {
            case ("SIZE", let v?):
                guard let n = Int(v), n >= 0 else { throw SMTPError(501, .init(5, 5, 4), "Error: bad SIZE value") }
                p.size = n
            case ("BODY", let v?):
                switch v.uppercased() {
                case "7BIT": p.body = .sevenBit
                case "8BITMIME": p.body = .eightBitMIME
                default: throw SMTPError(501, .init(5, 5, 4), "Error: unsupported BODY type")
                }
            case ("SMTPUTF8", nil):
                p.smtpUTF8 = true
            case ("REQUIRETLS", nil):
                p.requireTLS = true
            case ("RET", let v?):
                guard let ret = DSNReturn(rawValue: v.uppercased()) else {
                    throw SMTPError(501, .init(5, 5, 4), "Error: bad RET value")
                }
                p.dsnReturn = ret
            case ("ENVID", let v?):
                guard let decoded = XText.decode(v), decoded.utf8.count <= 100 else {
                    throw SMTPError(501, .init(5, 5, 4), "Error: bad ENVID value")
                }
                p.envelopeID = decoded
            case ("AUTH", let v?):
                guard let decoded = XText.decode(v) else { throw SMTPError(501, .init(5, 5, 4), "Error: bad AUTH value") }
                p.auth = decoded
            default:
                throw SMTPError(555, .init(5, 5, 4), "Error: unsupported MAIL parameter \(key)")
            }
        }
        return p
    }

    static func parseRecipientParameters(_ params: [Substring]) throws(SMTPError) -> RecipientParameters {
        var p = RecipientParameters()
        for (key, value) in try keyedParameters(params) {
            switch (key, value) {
            case ("NOTIFY", let v?):
                var notify: DSNNotify = []
                for item in v.uppercased().split(separator: ",", omittingEmptySubsequences: false) {
                    switch item {
                    case "NEVER": notify.insert(.never)
                    case "SUCCESS": notify.insert(.success)
                    case "FAILURE": notify.insert(.failure)
                    case "DELAY": notify.insert(.delay)
                    default: throw SMTPError(501, .init(5, 5, 4), "Error: bad NOTIFY value")
                    }
                }
                if notify.contains(.never) && notify != .never {
                    throw SMTPError(501, .init(5, 5, 4), "Error: NOTIFY=NEVER cannot be combined")
                }
                p.notify = notify
            case ("ORCPT", let v?):
                guard let semi = v.firstIndex(of: ";"), v[..<semi].uppercased() == "RFC822" || v[..<semi].uppercased() == "UTF-8",
                    let decoded = XText.decode(v[v.index(after: semi)...])
                else { throw SMTPError(501, .init(5, 5, 4), "Error: bad ORCPT value") }
                p.originalRecipient = "\(v[..<semi]);\(decoded)"
            default:
                throw SMTPError(555, .init(5, 5, 4), "Error: unsupported RCPT parameter \(key)")
            }
        }
        return p
    }
}

/// xtext (RFC 3461 §4): "+XX" hex escapes for characters outside "!".."~" and "+" and "=".
public enum XText {
    public static func decode(_ s: Substring) -> String? {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "+") {
                guard bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                guard (33...126).contains(b), b != UInt8(ascii: "=") else { return nil }
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    public static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (33...126).contains(b) && b != UInt8(ascii: "+") && b != UInt8(ascii: "=") {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                out += "+" + String(b, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

extension Substring {
    func trimmingTrailingSpaces() -> Substring {
        var s = self
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return s
    }
}
