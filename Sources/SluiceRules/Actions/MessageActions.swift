// The actions on the message itself, which every rule set may use: reject it
// at end of DATA, drop or quarantine a recipient, stop, add a header, tag the
// Subject, replace the recipient.

import SluiceConfig
import SluiceCore
import SluiceSMTP

/// `reject` or `reject: { code, status, message }`: the message is refused at end of DATA.
struct RejectAction: RuleAction {
    let error: SMTPError

    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        outcome.reject = error
        return .stop
    }

    var logText: String { "reject \(error.reply)" }

    struct Kind: RuleActionKind {
        let key = "reject"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            RejectAction(error: try RuleLoader.reply(value, bounce: false))
        }
    }
}

/// `drop`, `stop` and `quarantine`: written as bare words (`- drop`), or `drop: true`.
struct BareAction: RuleAction {
    enum What: String, Sendable { case drop, stop, quarantine }
    let what: What

    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        switch what {
        case .drop:
            outcome.dropped = true
            return .stop
        case .stop:
            return .stop
        case .quarantine:
            outcome.quarantined = true
            if outcome.quarantinedBy == nil { outcome.quarantinedBy = "rule \(match.rule) (\(match.why))" }
            return .next
        }
    }

    var logText: String { what.rawValue }

    struct Kind: RuleActionKind {
        let what: What
        var key: String { what.rawValue }
        var allowsBareWord: Bool { true }

        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            if !value.isNull, value.isScalar, let b = value.node.bool, b == false {
                throw value.error("'\(key): false' does nothing; remove the action")
            }
            return BareAction(what: what)
        }
    }
}

/// `add_header: { name: X-Route, value: partner }`
struct AddHeaderAction: RuleAction {
    let name: String
    let value: String

    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        outcome.addHeaders.append("\(name): \(value)")
        return .next
    }

    var logText: String { "add_header \(name)" }

    struct Kind: RuleActionKind {
        let key = "add_header"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            let hm = try value.mapping(allowed: ["name", "value"])
            guard let n = hm["name"], let v = hm["value"] else { throw value.error("add_header needs 'name:' and 'value:'") }
            let name = try n.nonEmptyString()
            guard name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw n.error("a header name is printable ASCII without spaces or ':'")
            }
            let text = try v.string()
            try RuleLoader.noLineBreaks(text, v)
            return AddHeaderAction(name: name, value: text)
        }
    }
}

/// `replace_recipient: a@b.example` (or a list, or `{ with: ... }`)
struct ReplaceRecipientAction: RuleAction {
    let addresses: [MailAddress]

    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        outcome.deliverTo = addresses
        return .next
    }

    var logText: String { "replace_recipient \(addresses.map(\.description).joined(separator: ","))" }

    struct Kind: RuleActionKind {
        let key = "replace_recipient"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            let target = value.isScalar || value.node.sequence != nil ? value : try value.mapping(allowed: ["with"])["with"] ?? value
            let addresses = try target.stringList().map { text -> MailAddress in
                do { return try AddressParser.parsePath(Substring(text), allowUTF8: true) } catch {
                    throw target.error("not a valid address: '\(text)'")
                }
            }
            guard !addresses.isEmpty else { throw value.error("replace_recipient needs at least one address") }
            return ReplaceRecipientAction(addresses: addresses)
        }
    }
}

/// `tag_subject: "[EXTERNAL]"`
struct TagSubjectAction: RuleAction {
    let tag: String

    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        if !outcome.subjectTags.contains(tag) { outcome.subjectTags.append(tag) }
        return .next
    }

    var logText: String { "tag_subject \(tag)" }

    struct Kind: RuleActionKind {
        let key = "tag_subject"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            let tag = value.isScalar ? try value.nonEmptyString() : try value.mapping(allowed: ["tag"])["tag"]?.nonEmptyString() ?? ""
            guard !tag.isEmpty else { throw value.error("tag_subject needs the tag text, e.g. tag_subject: \"[EXTERNAL]\"") }
            try RuleLoader.noLineBreaks(tag, value)
            return TagSubjectAction(tag: tag)
        }
    }
}

extension RuleVocabulary {
    /// The actions on the message itself.
    mutating func addMessageActions() throws {
        try add(RejectAction.Kind())
        for what in [BareAction.What.drop, .stop, .quarantine] { try add(BareAction.Kind(what: what)) }
        try add(AddHeaderAction.Kind())
        try add(ReplaceRecipientAction.Kind())
        try add(TagSubjectAction.Kind())
    }

    /// The message's own vocabulary: its conditions and actions, before any component adds its own.
    public static func message() throws -> RuleVocabulary {
        var v = RuleVocabulary()
        try v.addMessageConditions()
        try v.addMessageActions()
        return v
    }
}

extension RuleLoader {
    /// `reject`/`bounce` values: nothing, or `{ code, status, message }`; the reply they answer with.
    public static func reply(_ value: ConfigNode, bounce: Bool) throws -> SMTPError {
        if value.isNull {
            return SMTPError(550, .init(5, 7, 1), bounce ? "Delivery refused by policy" : "Message rejected by policy")
        }
        let rm = try value.mapping(allowed: ["code", "status", "message"])
        let code = try rm["code"]?.int(in: 400...599) ?? 550
        let statusText = try rm["status"]?.string() ?? (code >= 500 ? "5.7.1" : "4.7.1")
        guard let status = EnhancedStatus(statusText), status.klass == code / 100 else {
            throw (rm["status"] ?? value).error("status must look like \(code / 100).7.1 and match the code's class")
        }
        guard code / 100 == 4 || code / 100 == 5 else { throw rm["code"]!.error("reject codes are 4xx or 5xx") }
        if bounce && code / 100 != 5 { throw rm["code"]!.error("a bounce reports a permanent failure: use a 5xx code") }
        let message = try rm["message"]?.nonEmptyString() ?? (bounce ? "Delivery refused by policy" : "Message rejected by policy")
        try noLineBreaks(message, rm["message"] ?? value)
        return SMTPError(code, status, message, reason: bounce ? "rule bounce" : "rule reject")
    }

    /// Text that ends up in a header or a reply: no line breaks or control characters (header injection).
    public static func noLineBreaks(_ s: String, _ node: ConfigNode) throws {
        if s.contains(where: { $0 == "\r" || $0 == "\n" }) || s.unicodeScalars.contains(where: { $0.value < 32 && $0 != "\t" }) {
            throw node.error("must not contain line breaks or control characters (header injection)")
        }
    }

    /// `on_failure: continue | drop | defer` of a delivering action.
    public static func failurePolicy(_ node: ConfigNode?, default value: OnFailure) throws -> OnFailure {
        try node.map { OnFailure(rawValue: try $0.oneOf(["continue", "drop", "defer"]))! } ?? value
    }
}
