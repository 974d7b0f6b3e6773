// The `lmtp:` section (SPEC §12, R-DELIVER-5): the mail stores Sluice hands
// mail to over LMTP (RFC 2033), each a name a rule's `deliver_lmtp:` uses:
//
//   lmtp:
//     mailstore: { address: "unix:/run/dovecot/lmtp" }          # Dovecot, Cyrus ...
//     remote:    { address: "10.0.0.5:24", tls: required, mailbox: "{local}@mail.internal" }
//
// `tls` (none | opportunistic | required; default none: LMTP is for the
// machine or the data centre's own network), `mailbox` (the address given to
// the server: `{local}`, `{domain}` and `{address}` of the recipient; default
// the recipient as it is), `max_connections` (default 10).

import Foundation
import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluiceSMTP

public struct LMTPServer: Sendable {
    public var name: String
    public var endpoint: SMTPClient.Endpoint
    public var tls: OutboundTLS = .none
    /// The address the server is given for a recipient; nil: the recipient itself.
    public var mailbox: String?
    public var maxConnections = 10

    /// The mailbox address for `recipient` (the template's placeholders filled in); nil when the result is no address.
    public func mailbox(for recipient: MailAddress) -> MailAddress? {
        guard let mailbox else { return recipient }
        let text = mailbox.replacingOccurrences(of: "{address}", with: recipient.description)
            .replacingOccurrences(of: "{local}", with: recipient.localPart)
            .replacingOccurrences(of: "{domain}", with: recipient.domain)
        // Not an address: nil, which the target answers with 553 5.1.3 for that recipient (never a silent drop).
        return try? AddressParser.parsePath(Substring(text), allowUTF8: true)
    }
}

public struct LMTPSection: ConfigSection {
    public static let key = "lmtp"
    public var servers: [String: LMTPServer] = [:]

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        for (name, entry) in try node.namedEntries() {
            let m = try entry.mapping(allowed: ["address", "tls", "mailbox", "max_connections"])
            guard let a = m["address"] else { throw entry.error("lmtp.\(name) needs address: (\"unix:/run/dovecot/lmtp\" or HOST:PORT)") }
            let text = try a.nonEmptyString()
            let endpoint: SMTPClient.Endpoint
            if text.hasPrefix("unix:") {
                let path = String(text.dropFirst(5))
                guard !path.isEmpty else { throw a.error("unix: needs the socket's path") }
                endpoint = SMTPClient.Endpoint(unixPath: context.resolve(path))
            } else if let (host, port) = HostPort.parse(text) {
                endpoint = SMTPClient.Endpoint(host: host, port: port)
            } else {
                throw a.error("expected \"unix:/PATH\" or HOST:PORT such as 127.0.0.1:24, got '\(text)'")
            }
            var server = LMTPServer(name: name, endpoint: endpoint)
            if let t = m["tls"] { server.tls = try t.choice(OutboundTLS.self) }
            if server.tls != .none && endpoint.unixPath != nil { throw m["tls"]!.error("a unix socket takes no TLS; use tls: none") }
            if let b = m["mailbox"] {
                let template = try b.nonEmptyString()
                let probe = template.replacingOccurrences(of: "{address}", with: "a@b.example")
                    .replacingOccurrences(of: "{local}", with: "a").replacingOccurrences(of: "{domain}", with: "b.example")
                // The parser's own error is not the administrator's: the message below says what a template is.
                guard !probe.contains("{"), (try? AddressParser.parsePath(Substring(probe), allowUTF8: true)) != nil else {
                    throw b.error("mailbox is an address made of {local}, {domain} and {address}, such as \"{local}@mail.internal\"; got '\(template)'")
                }
                server.mailbox = template
            }
            if let c = m["max_connections"] { server.maxConnections = try c.int(in: 1...1000) }
            servers[name] = server
        }
    }
}

extension SluiceConfiguration {
    /// The LMTP servers of `lmtp:` (none when the component is not in the list).
    public var lmtpServers: [String: LMTPServer] { section(LMTPSection.self)?.servers ?? [:] }
}
