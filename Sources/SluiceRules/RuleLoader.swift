// RuleLoader: rules/NAME.yaml into a RuleSet, with full validation. Every
// error names file:line:column and says what is wrong in a sentence. Address
// lists come from rules/lists/NAME.txt. Conditions and actions of features
// this version does not have are refused here, never silently ignored.

import Foundation
import SluiceConfig
import SluiceCore
import SluiceSMTP

public struct RuleLoader {
    public let rulesDirectory: String
    /// Resolves relative paths in actions (store) like the config does.
    public let resolvePath: (String) -> String
    /// The upstream pools `relay:` may name.
    public let upstreams: Set<String>
    /// The profiles of rules/dlp.yaml `dlp:` may name.
    public let dlpProfiles: Set<String>
    /// The archives of the config `archive:` may name.
    public let archives: Set<String>
    /// Whether an active DKIM key signs for a domain (`dkim_sign:` may name only those).
    public let canSign: (String) -> Bool
    private var lists: [String: AddressList] = [:]

    public init(
        rulesDirectory: String, resolvePath: @escaping (String) -> String, upstreams: Set<String> = [], dlpProfiles: Set<String> = [],
        archives: Set<String> = [], canSign: @escaping (String) -> Bool = { _ in false }
    ) {
        self.archives = archives
        self.canSign = canSign
        self.rulesDirectory = rulesDirectory
        self.resolvePath = resolvePath
        self.upstreams = upstreams
        self.dlpProfiles = dlpProfiles
    }

    /// Keys of features this build does not have yet, refused with the reason (none at the moment).
    static let unavailable: [String: String] = [:]

    public mutating func load(set name: String) throws -> RuleSet {
        let file = "\(rulesDirectory)/\(name).yaml"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigError(file: file, line: nil, column: nil, keyPath: "", reason: "rule set '\(name)' not found (expected \(file))")
        }
        return try parse(yaml: text, file: file, name: name)
    }

    public mutating func parse(yaml: String, file: String, name: String) throws -> RuleSet {
        let root = try ConfigNode.root(yaml: yaml, file: file)
        let top = try root.mapping(allowed: ["rules"])
        guard let rulesNode = top["rules"] else { throw root.error("a rule set needs a 'rules:' list") }
        var rules: [Rule] = []
        var names = Set<String>()
        for item in try rulesNode.list() {
            let m = try item.mapping(allowed: ["name", "when", "unless", "then"])
            guard let nameNode = m["name"] else { throw item.error("every rule needs a 'name'") }
            let ruleName = try nameNode.nonEmptyString()
            guard names.insert(ruleName).inserted else { throw nameNode.error("another rule is already named '\(ruleName)'") }
            let when = try (m["when"]?.list() ?? []).map { try condition($0) }
            let unless = try (m["unless"]?.list() ?? []).map { try condition($0) }
            guard let thenNode = m["then"] else { throw item.error("rule '\(ruleName)' needs a 'then:' list of actions") }
            let actions = try thenNode.list().map { try action($0) }
            guard !actions.isEmpty else { throw thenNode.error("rule '\(ruleName)' has no actions") }
            rules.append(Rule(name: ruleName, when: when, unless: unless, actions: actions))
        }
        return RuleSet(name: name, file: file, rules: rules)
    }

    // MARK: Conditions

    mutating func condition(_ node: ConfigNode) throws -> Condition {
        let m = try node.mapping(allowed: [
            "sender", "recipient", "from", "to", "cc", "subject", "header", "helo", "listener", "user", "size", "client_ip",
            "tls", "tls_version", "authenticated", "any", "spf", "dkim", "dmarc", "dmarc_policy", "dlp", "attachment",
        ] + Self.unavailable.keys.sorted())
        guard m.count == 1, let (key, value) = m.first else {
            throw node.error("a condition has exactly one key, such as 'sender:' or 'any:' (use several list items for AND)")
        }
        if let why = Self.unavailable[key] { throw value.error("'\(key)' is not available in this version: \(why)") }
        switch key {
        case "sender": return .string(.sender, try stringOperator(value, addresses: true))
        case "recipient": return .string(.recipient, try stringOperator(value, addresses: true))
        case "from": return .string(.header("From"), try stringOperator(value, addresses: true))
        case "to": return .string(.header("To"), try stringOperator(value, addresses: true))
        case "cc": return .string(.header("Cc"), try stringOperator(value, addresses: true))
        case "subject": return .string(.header("Subject"), try stringOperator(value, addresses: false))
        case "helo": return .string(.helo, try stringOperator(value, addresses: false))
        case "listener": return .string(.listener, try stringOperator(value, addresses: false))
        case "user": return .string(.user, try stringOperator(value, addresses: false))
        case "header":
            let hm = try value.mapping(allowed: ["name", "equals", "contains", "starts_with", "ends_with", "domain", "matches", "in_list"])
            guard let n = hm["name"] else { throw value.error("a header condition needs 'name:' (the header field name)") }
            let field = StringField.header(try n.nonEmptyString())
            var rest = hm
            rest["name"] = nil
            return .string(field, try stringOperator(entries: rest, at: value, addresses: field.holdsAddresses))
        case "size":
            let sm = try value.mapping(allowed: ["gt", "lt"])
            guard sm.count == 1 else { throw value.error("size takes one of 'gt:' or 'lt:', e.g. size: { gt: 10MB }") }
            if let gt = sm["gt"] { return .sizeAbove(try gt.size()) }
            return .sizeBelow(try sm["lt"]!.size())
        case "client_ip": return .clientIP(try value.cidrList())
        case "tls": return .tls(try value.bool())
        case "tls_version": return .tlsVersionAtLeast(try value.oneOf(["TLSv1.2", "TLSv1.3"]))
        case "authenticated": return .authenticated(try value.bool())
        case "attachment":
            // `attachment: { name: { ends_with: [.exe, .js] } }` or `attachment: { type: [application/x-msdownload] }`
            let am = try value.mapping(allowed: ["name", "type"])
            guard am.count == 1, let (what, op) = am.first else {
                throw value.error("attachment takes one of 'name:' or 'type:' with a string operator")
            }
            return .string(what == "name" ? .attachmentName : .attachmentType, try stringOperator(op, addresses: false))
        case "dlp":
            // `dlp: pci`, `dlp: { profile: pci, min_count: 3 }`, `dlp: { unscannable: true }` or
            // `dlp: { unscannable: [encrypted, bomb] }`
            var profile: String
            var minCount: Int?
            var at = value
            if value.isScalar {
                profile = try value.nonEmptyString()
            } else {
                let dm = try value.mapping(allowed: ["profile", "min_count", "unscannable"])
                if let u = dm["unscannable"] {
                    guard dm.count == 1 else { throw value.error("'unscannable:' stands alone (no 'profile:' or 'min_count:' with it)") }
                    if let wanted = u.boolValue { return .unscannable(reasons: nil, wanted: wanted) }
                    var reasons: Set<UnscannableReason> = []
                    for item in u.isScalar ? [u] : try u.list() {
                        let name = try item.nonEmptyString()
                        guard let reason = UnscannableReason(rawValue: name.lowercased()) else {
                            let known = UnscannableReason.allCases.map(\.rawValue).joined(separator: ", ")
                            throw item.error("unscannable takes true, false or reasons (\(known)); '\(name)' is none of them")
                        }
                        reasons.insert(reason)
                    }
                    return .unscannable(reasons: reasons, wanted: true)
                }
                guard let p = dm["profile"] else { throw value.error("dlp needs 'profile:' (a profile in rules/dlp.yaml)") }
                profile = try p.nonEmptyString()
                at = p
                minCount = try dm["min_count"]?.int(in: 1...1_000_000)
            }
            guard dlpProfiles.contains(profile) else {
                let known = dlpProfiles.isEmpty ? "rules/dlp.yaml defines none" : "known: \(dlpProfiles.sorted().joined(separator: ", "))"
                throw at.error("no DLP profile '\(profile)' (\(known))")
            }
            return .dlp(profile: profile, minCount: minCount)
        case "spf", "dkim", "dmarc", "dmarc_policy":
            let method = AuthenticationMethod(rawValue: key)!
            let allowed = method.values
            let wanted = try value.stringList().map { $0.lowercased() }
            guard !wanted.isEmpty else { throw value.error("name at least one of: \(allowed.joined(separator: ", "))") }
            if let bad = wanted.first(where: { !allowed.contains($0) }) {
                throw value.error("'\(bad)' is not a \(key) verdict; use \(allowed.joined(separator: ", "))")
            }
            return .authentication(method, wanted)
        default:  // any
            let items = try value.list()
            guard !items.isEmpty else { throw value.error("'any:' needs at least one condition") }
            return .any(try items.map { try condition($0) })
        }
    }

    mutating func stringOperator(_ node: ConfigNode, addresses: Bool) throws -> StringOperator {
        if node.isScalar || node.node.sequence != nil {
            return .equals(try node.stringList())  // shorthand: sender: a@b.example
        }
        let m = try node.mapping(allowed: ["equals", "contains", "starts_with", "ends_with", "domain", "matches", "in_list"])
        return try stringOperator(entries: m, at: node, addresses: addresses)
    }

    mutating func stringOperator(entries m: [String: ConfigNode], at node: ConfigNode, addresses: Bool) throws -> StringOperator {
        guard m.count == 1, let (op, value) = m.first else {
            throw node.error("use exactly one operator: equals, contains, starts_with, ends_with, domain, matches or in_list")
        }
        switch op {
        case "equals": return .equals(try value.stringList())
        case "contains": return .contains(try value.stringList())
        case "starts_with": return .startsWith(try value.stringList())
        case "ends_with": return .endsWith(try value.stringList())
        case "domain":
            guard addresses else { throw value.error("'domain' applies to addresses (sender, recipient, from, to, cc)") }
            return .domain(try value.stringList())
        case "matches":
            let pattern = try value.nonEmptyString()
            do { return .matches(try NSRegularExpressionBox(pattern)) } catch {
                throw value.error("not a valid regular expression: \(pattern)")
            }
        default:
            guard addresses else { throw value.error("'in_list' applies to addresses (sender, recipient, from, to, cc)") }
            return .inList(try list(named: try value.nonEmptyString(), at: value))
        }
    }

    mutating func list(named name: String, at node: ConfigNode) throws -> AddressList {
        if let l = lists[name] { return l }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw node.error("list names are letters, digits, '-', '_' and '.'")
        }
        let path = "\(rulesDirectory)/lists/\(name).txt"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw node.error("address list '\(name)' not found (expected \(path))")
        }
        let l = AddressList(name: name, text: text)
        lists[name] = l
        return l
    }

    // MARK: Actions

    /// `on_failure: continue | drop | defer` of a delivering action.
    func failurePolicy(_ node: ConfigNode?, default value: OnFailure) throws -> OnFailure {
        try node.map { OnFailure(rawValue: try $0.oneOf(["continue", "drop", "defer"]))! } ?? value
    }

    func action(_ node: ConfigNode) throws -> RuleAction {
        if node.isScalar {
            switch try node.string() {
            case "drop": return .drop
            case "stop": return .stop
            case "quarantine": return .quarantine
            case "send": return .send(onFailure: .continue, maxDeliveryTime: nil)
            case let other:
                throw node.error("'\(other)' needs a value (write it as '\(other): ...'), or use drop, stop, quarantine or send")
            }
        }
        let m = try node.mapping(allowed: [
            "store", "relay", "send", "archive", "quarantine", "drop", "reject", "bounce", "add_header", "replace_recipient", "tag_subject",
            "dkim_sign", "stop",
        ] + Self.unavailable.keys.sorted())
        guard m.count == 1, let (key, value) = m.first else { throw node.error("an action has exactly one key, such as 'store:'") }
        if let why = Self.unavailable[key] { throw value.error("'\(key)' is not available in this version: \(why)") }
        switch key {
        case "store":
            if value.isScalar { return .store(directory: resolvePath(try value.nonEmptyString()), onFailure: .continue, maxDeliveryTime: nil) }
            let sm = try value.mapping(allowed: ["path", "on_failure", "max_delivery_time"])
            guard let p = sm["path"] else { throw value.error("store needs 'path:' (a directory)") }
            return .store(
                directory: resolvePath(try p.nonEmptyString()),
                onFailure: try failurePolicy(sm["on_failure"], default: .continue),
                maxDeliveryTime: try sm["max_delivery_time"]?.duration())
        case "relay":
            var name: String
            var onFailure = OnFailure.continue
            var max: Double?
            if value.isScalar {
                name = try value.nonEmptyString()
            } else {
                let rm = try value.mapping(allowed: ["upstream", "on_failure", "max_delivery_time"])
                guard let u = rm["upstream"] else { throw value.error("relay needs 'upstream:' (a name under upstreams:)") }
                name = try u.nonEmptyString()
                onFailure = try failurePolicy(rm["on_failure"], default: .continue)
                max = try rm["max_delivery_time"]?.duration()
            }
            guard upstreams.contains(name) else {
                let known = upstreams.isEmpty ? "none are configured" : "known: \(upstreams.sorted().joined(separator: ", "))"
                throw value.error("upstream '\(name)' is not defined under upstreams: in the config (\(known))")
            }
            return .relay(upstream: name, onFailure: onFailure, maxDeliveryTime: max)
        case "archive":
            // `archive: default` or `archive: { name: legal, on_failure: defer }`
            var name: String
            var onFailure = OnFailure.defer
            var at = value
            if value.isScalar {
                name = try value.nonEmptyString()
            } else {
                let am = try value.mapping(allowed: ["name", "on_failure"])
                guard let n = am["name"] else { throw value.error("archive needs 'name:' (an archive under archives:)") }
                name = try n.nonEmptyString()
                at = n
                onFailure = try failurePolicy(am["on_failure"], default: .defer)
            }
            guard archives.contains(name) else {
                let known = archives.isEmpty ? "none are configured" : "known: \(archives.sorted().joined(separator: ", "))"
                throw at.error("archive '\(name)' is not defined under archives: in the config (\(known))")
            }
            return .archive(name: name, onFailure: onFailure)
        case "send":
            // `- send`, `- send: {}` or `- send: { on_failure: defer, max_delivery_time: 2h }`
            if value.isNull { return .send(onFailure: .continue, maxDeliveryTime: nil) }
            let sm = try value.mapping(allowed: ["on_failure", "max_delivery_time"])
            return .send(
                onFailure: try failurePolicy(sm["on_failure"], default: .continue),
                maxDeliveryTime: try sm["max_delivery_time"]?.duration())
        case "quarantine", "drop", "stop":
            if !value.isNull, value.isScalar, let b = value.node.bool, b == false {
                throw value.error("'\(key): false' does nothing; remove the action")
            }
            return key == "quarantine" ? .quarantine : key == "drop" ? .drop : .stop
        case "reject", "bounce":
            let bounce = key == "bounce"
            if value.isNull {
                let e = SMTPError(550, .init(5, 7, 1), bounce ? "Delivery refused by policy" : "Message rejected by policy")
                return bounce ? .bounce(e) : .reject(e)
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
            let e = SMTPError(code, status, message, reason: bounce ? "rule bounce" : "rule reject")
            return bounce ? .bounce(e) : .reject(e)
        case "add_header":
            let hm = try value.mapping(allowed: ["name", "value"])
            guard let n = hm["name"], let v = hm["value"] else { throw value.error("add_header needs 'name:' and 'value:'") }
            let name = try n.nonEmptyString()
            guard name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw n.error("a header name is printable ASCII without spaces or ':'")
            }
            let text = try v.string()
            try noLineBreaks(text, v)
            return .addHeader(name: name, value: text)
        case "replace_recipient":
            let target = value.isScalar || value.node.sequence != nil ? value : try value.mapping(allowed: ["with"])["with"] ?? value
            let addresses = try target.stringList().map { text -> MailAddress in
                do { return try AddressParser.parsePath(Substring(text), allowUTF8: true) } catch {
                    throw target.error("not a valid address: '\(text)'")
                }
            }
            guard !addresses.isEmpty else { throw value.error("replace_recipient needs at least one address") }
            return .replaceRecipient(addresses)
        case "dkim_sign":
            // `dkim_sign: example.test`: this mail is signed for the domain even when its sender is not authorised
            // for it (a forwarder, a list); only domains with an active key.
            let domain = try value.nonEmptyString().lowercased()
            guard canSign(domain) else {
                throw value.error("no active DKIM key signs for '\(domain)' (dkim: in the config; sluice dkim keygen)")
            }
            return .dkimSign(domain: domain)
        default:  // tag_subject
            let tag = value.isScalar ? try value.nonEmptyString() : try value.mapping(allowed: ["tag"])["tag"]?.nonEmptyString() ?? ""
            guard !tag.isEmpty else { throw value.error("tag_subject needs the tag text, e.g. tag_subject: \"[EXTERNAL]\"") }
            try noLineBreaks(tag, value)
            return .tagSubject(tag)
        }
    }

    func noLineBreaks(_ s: String, _ node: ConfigNode) throws {
        if s.contains(where: { $0 == "\r" || $0 == "\n" }) || s.unicodeScalars.contains(where: { $0.value < 32 && $0 != "\t" }) {
            throw node.error("must not contain line breaks or control characters (header injection)")
        }
    }
}
