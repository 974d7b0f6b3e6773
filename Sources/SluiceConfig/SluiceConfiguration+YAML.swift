// Reading SluiceConfiguration from YAML. Every error names file:line:column,
// the key path and the reason; unknown keys are errors. Relative paths resolve
// against the parent of the config file's directory (the checkout root for
// etc/sluice.yaml).

import Foundation
import SluiceCore
import Yams

extension SluiceConfiguration {
    /// Top-level keys of SPEC §1 that later features own. Refused with a clear
    /// reason until this build implements them, never silently ignored.
    static let notYetSupported: [String: String] = [:]

    static let topLevelKeys = [
        "hostname", "data_dir", "rules_dir", "tls", "listeners", "policies", "networks", "local_domains", "delivery", "certificates",
        "admin", "senders", "dns", "queue", "storage",
    ]

    /// Reads the file; `sections` are the readers of the keys components own (a key none of them and no core
    /// setting owns is an error).
    /// `policyConditions`: the `when:` keys components add to the policies' statements.
    public static func load(
        file: String, sections: [any ConfigSection.Type] = [], policyConditions: [any PolicyConditionKind] = []
    ) throws -> SluiceConfiguration {
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: file, line: nil, column: nil, keyPath: "", reason: "cannot read: \(error.localizedDescription)")
        }
        return try parse(yaml: text, file: path, sections: sections, policyConditions: policyConditions)
    }

    public static func parse(
        yaml: String, file: String, sections: [any ConfigSection.Type] = [], policyConditions: [any PolicyConditionKind] = []
    ) throws -> SluiceConfiguration {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigError(file: file, line: 1, column: 1, keyPath: "", reason: "the file is empty")
            }
            root = node
        } catch let e as YamlError {
            throw yamlError(e, file: file)
        }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().path
        func resolve(_ p: String) -> String {
            p.hasPrefix("/") ? p : URL(fileURLWithPath: base).appendingPathComponent(p).standardizedFileURL.path
        }

        let top = ConfigNode(node: root, path: "", file: file)
        // A section whose key is "storage.NAME" is a storage backend's settings, under `storage:` beside `backend`.
        let backendSections = sections.filter { $0.key.hasPrefix(storageSectionPrefix) }
        let keys = try top.mapping(
            allowed: topLevelKeys + notYetSupported.keys.sorted() + sections.map { $0.key }.filter { !$0.hasPrefix(storageSectionPrefix) })
        for (key, reason) in notYetSupported.sorted(by: { $0.key < $1.key }) {
            if let n = keys[key] { throw n.error("not supported by this version of Sluice yet (\(reason)); remove it") }
        }

        let hostname = try keys["hostname"]?.nonEmptyString() ?? ProcessInfo.processInfo.hostName
        let dataDir = resolve(try keys["data_dir"]?.nonEmptyString() ?? "var")
        let rulesDir = resolve(try keys["rules_dir"]?.nonEmptyString() ?? "rules")

        var tls = TLSSettings(certificate: "\(dataDir)/tls/cert.pem", key: "\(dataDir)/tls/key.pem")
        if let t = try keys["tls"]?.mapping(allowed: ["certificate", "key"]) {
            if let c = t["certificate"] { tls.certificate = resolve(try c.nonEmptyString()) }
            if let k = t["key"] { tls.key = resolve(try k.nonEmptyString()) }
        }

        // The components' sections first: a policy condition may name what one defines (`dnsbl: zen`).
        let context = ConfigContext(file: file, baseDirectory: base, dataDir: dataDir, hostname: hostname)
        let storageKeys = try keys["storage"]?.mapping(allowed: ["backend"] + backendSections.map { String($0.key.dropFirst(storageSectionPrefix.count)) })
        var componentSections: [String: any ConfigSection] = [:]
        for section in sections {
            guard componentSections[section.key] == nil else { throw top.error("two components read the section '\(section.key)'") }
            let node =
                section.key.hasPrefix(storageSectionPrefix) ? storageKeys?[String(section.key.dropFirst(storageSectionPrefix.count))] : keys[section.key]
            componentSections[section.key] = try section.init(node, context)
        }

        var kinds: [String: any PolicyConditionKind] = [:]
        for kind in policyConditions {
            guard kinds[kind.key] == nil, !corePolicyConditions.contains(kind.key) else {
                throw top.error("two policy conditions are named '\(kind.key)'")
            }
            kinds[kind.key] = kind
        }
        var policyContext = PolicyParseContext(rulesDirectory: rulesDir, sections: componentSections)
        var policies: [String: TrafficPolicy] = [:]
        if let p = keys["policies"] {
            for (name, node) in try p.namedEntries() {
                policies[name] = try readPolicy(name: name, node, kinds: kinds, context: &policyContext)
            }
        }

        var trusted = [CIDR("127.0.0.0/8")!, CIDR("::1/128")!]
        if let n = try keys["networks"]?.mapping(allowed: ["trusted"]), let t = n["trusted"] {
            trusted = try t.cidrList()
        }

        var trustedSenders: [String]?
        if let sn = try keys["senders"]?.mapping(allowed: ["trusted"]), let t = sn["trusted"] {
            trustedSenders = try t.stringList()
        }

        let localDomains = try keys["local_domains"]?.stringList().map { $0.lowercased() } ?? []

        var delivery = DeliverySettings(storeDirectory: "\(dataDir)/outbox")
        if let d = try keys["delivery"]?.mapping(allowed: [
            "store", "max_delivery_time", "retry_schedule", "send_port", "send_tls", "destination_concurrency",
            "connection_idle_timeout", "connection_reuse_limit", "tls_policy", "ca_file", "mta_sts",
        ]) {
            if let t = d["connection_idle_timeout"] { delivery.connectionIdleTimeout = try t.duration() }
            if let t = d["connection_reuse_limit"] { delivery.connectionReuseLimit = try t.duration() }
            if let p = d["send_port"] { delivery.sendPort = try p.int(in: 1...65535) }
            if let t = d["send_tls"] { delivery.sendTLS = try t.choice(OutboundTLS.self) }
            try delivery.readTransportSecurity(d, send: d["send_tls"], resolve: resolve)
            if let c = d["destination_concurrency"] { delivery.destinationConcurrency = try c.int(in: 1...1000) }
            if let s = d["store"] { delivery.storeDirectory = resolve(try s.nonEmptyString()) }
            if let m = d["max_delivery_time"] { delivery.maxDeliveryTime = try m.duration() }
            if let r = d["retry_schedule"] {
                let items = try r.list()
                guard !items.isEmpty else { throw r.error("needs at least one duration") }
                delivery.retrySchedule = try items.map { try $0.duration() }
            }
        }

        var admin = AdminSettings()
        if let a = try keys["admin"]?.mapping(allowed: ["address"]), let addressNode = a["address"] {
            let text = try addressNode.nonEmptyString()
            guard let (host, port) = HostPort.parse(text) else {
                throw addressNode.error("expected host:port such as 127.0.0.1:9325, got '\(text)'")
            }
            admin.host = host
            admin.port = port
        }

        var dns = DNSSettings()
        if let d = try keys["dns"]?.mapping(allowed: ["nameserver", "timeout", "trust_anchor"]) {
            if let t = d["trust_anchor"] {
                let path = resolve(try t.nonEmptyString())
                guard FileManager.default.isReadableFile(atPath: path) else { throw t.error("cannot read \(path)") }
                dns.trustAnchor = path
            }
            if let n = d["nameserver"] {
                let text = try n.nonEmptyString()
                if text != "system" {
                    guard let (host, port) = HostPort.parse(text) ?? (IPAddress(text) != nil ? (text, 53) : nil) else {
                        throw n.error("expected 'system' or an address such as 127.0.0.1:5353, got '\(text)'")
                    }
                    guard IPAddress(host) != nil else { throw n.error("the nameserver must be an IP address, got '\(host)'") }
                    dns.nameserver = (host, port)
                }
            }
            if let t = d["timeout"] { dns.timeout = try t.duration() }
        }
        if dns.trustAnchor == nil, let e = delivery.daneNeedsAnchor { throw e }

        var listeners: [ListenerSettings] = []
        guard let listenersNode = keys["listeners"] else {
            throw top.error("no 'listeners:' configured; Sluice needs at least one address to accept mail on")
        }
        let items = try listenersNode.list()
        guard !items.isEmpty else { throw listenersNode.error("needs at least one listener") }
        for item in items {
            var l = try readListener(item, resolve: resolve)
            if let p = l.policy, policies[p] == nil {
                throw item.error("policy '\(p)' is not defined under policies:")
            }
            if listeners.contains(where: { $0.name == l.name }) { throw item.error("duplicate listener name '\(l.name)'") }
            if listeners.contains(where: { $0.host == l.host && $0.port == l.port && l.port != 0 }) {
                throw item.error("address \(l.host):\(l.port) is used by another listener")
            }
            if !l.verifyConfigured,
                l.admitsUntrustedClients(policy: l.policy.flatMap { policies[$0] }, trustedNetworks: trusted, localDomains: localDomains)
            {
                l.verify = ListenerSettings.defaultVerification
            }
            listeners.append(l)
        }

        var storage = StorageSettings()
        storage.location = top.location
        if let b = storageKeys?["backend"] {
            storage.backend = try b.nonEmptyString()
            storage.location = b.location
        }

        var queue = QueueSettings()
        if let q = try keys["queue"]?.mapping(allowed: ["min_free"]) {
            if let m = q["min_free"] { queue.minFree = try m.size() }
        }

        var config = SluiceConfiguration(
            file: file, baseDirectory: base, hostname: hostname, dataDir: dataDir, rulesDir: rulesDir, tls: tls, listeners: listeners,
            policies: policies, trustedNetworks: trusted, trustedSenders: trustedSenders, localDomains: localDomains,
            delivery: delivery, admin: admin, dns: dns)
        config.queue = queue
        config.storage = storage
        if let c = keys["certificates"] { config.certificates = try readCertificates(c) }
        config.sections = componentSections
        return config
    }

    static func readListener(_ node: ConfigNode, resolve: (String) -> String) throws -> ListenerSettings {
        let m = try node.mapping(allowed: [
            "name", "address", "tls", "require_tls", "auth", "policy", "rules", "max_message_size", "max_recipients",
            "max_connections", "max_connections_per_ip", "command_timeout", "data_timeout", "bare_lf",
            "max_received_headers", "auth_requires_tls", "auth_max_failures", "auth_failure_delay", "proxy_protocol", "received_auth_user", "verify",
            "proxy_from", "rules_timeout", "client_ca", "client_crl",
        ])
        guard let nameNode = m["name"] else { throw node.error("a listener needs a 'name'") }
        guard let addressNode = m["address"] else { throw node.error("a listener needs an 'address' (host:port)") }
        let addressText = try addressNode.nonEmptyString()
        guard let (host, port) = HostPort.parse(addressText) else {
            throw addressNode.error("expected host:port such as 127.0.0.1:2525 or [::1]:2525, got '\(addressText)'")
        }
        var l = ListenerSettings(name: try nameNode.nonEmptyString(), host: host, port: port)
        if let n = m["tls"] { l.tls = try n.choice(TLSMode.self) }
        if let n = m["require_tls"] { l.requireTLS = try n.bool() }
        if let n = m["auth"] {
            l.auth = try n.choice(AuthMode.self)
        }
        if let n = m["auth_requires_tls"] { l.authRequiresTLS = try n.bool() }
        if let n = m["auth_max_failures"] { l.authMaxFailures = try n.int(in: 1...10_000) }
        if let n = m["auth_failure_delay"] { l.authFailureDelay = try n.duration() }
        if l.auth.offersAuth && l.authRequiresTLS && l.tls == .none {
            throw (m["auth"] ?? node).error("auth: \(l.auth.rawValue) on a listener with tls: none would never offer AUTH; use TLS or set auth_requires_tls: false")
        }
        if l.requireTLS && l.tls == .none { throw node.error("require_tls: true needs tls: starttls or implicit") }
        for (key, path) in [("client_ca", \ListenerSettings.clientCA), ("client_crl", \ListenerSettings.clientCRL)] {
            guard let n = m[key] else { continue }
            let file = resolve(try n.nonEmptyString())
            guard FileManager.default.isReadableFile(atPath: file) else { throw n.error("cannot read \(file)") }
            guard l.tls != .none else { throw n.error("\(key) needs tls: starttls or implicit") }
            l[keyPath: path] = file
        }
        if l.clientCRL != nil && l.clientCA == nil { throw m["client_crl"]!.error("client_crl needs client_ca: the CAs whose revocations it lists") }
        if l.auth == .mtls && l.clientCA == nil {
            throw m["auth"]!.error("auth: mtls needs client_ca: the CA certificates that issue the clients' certificates")
        }
        if let n = m["policy"] { l.policy = try n.nonEmptyString() }
        if let n = m["rules"] { l.rules = try n.nonEmptyString() }
        if let n = m["max_message_size"] { l.maxMessageSize = try n.size() }
        if let n = m["max_recipients"] { l.maxRecipients = try n.int(in: 1...100_000) }
        if let n = m["max_connections"] { l.maxConnections = try n.int(in: 1...1_000_000) }
        if let n = m["max_connections_per_ip"] { l.maxConnectionsPerIP = try n.int(in: 1...1_000_000) }
        if let n = m["command_timeout"] { l.commandTimeout = try n.duration() }
        if let n = m["data_timeout"] { l.dataTimeout = try n.duration() }
        if let n = m["bare_lf"] { l.bareLineEndings = try n.choice(BareLineEndingPolicy.self) }
        if let n = m["max_received_headers"] { l.maxReceivedHeaders = try n.int(in: 1...1000) }
        if let n = m["rules_timeout"] { l.rulesTimeout = try n.duration() }
        if let n = m["proxy_protocol"] { l.proxyProtocol = try n.bool() }
        if let n = m["received_auth_user"] { l.receivedAuthUser = try n.bool() }
        if let v = m["verify"] {
            for item in try v.list() { l.verify.insert(try item.oneOf(["spf", "dkim", "dmarc", "arc"])) }
            l.verifyConfigured = true
        }
        if let n = m["proxy_from"] { l.proxyFrom = try n.cidrList() }
        if l.proxyProtocol && l.proxyFrom.isEmpty {
            throw (m["proxy_protocol"] ?? node).error("proxy_protocol: true needs proxy_from: the load balancers' addresses")
        }
        guard l.maxMessageSize > 0 else { throw m["max_message_size"]!.error("must be more than 0") }
        return l
    }

    static func yamlError(_ e: YamlError, file: String) -> ConfigError {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, keyPath: "", reason: "YAML syntax: \(problem)")
        default:
            return ConfigError(file: file, line: nil, column: nil, keyPath: "", reason: "YAML: \(e)")
        }
    }
}

/// "127.0.0.1:2525", "[::1]:2525", "localhost:25".
public enum HostPort {
    public static func parse(_ text: String) -> (String, Int)? {
        var host: Substring
        var portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}
