// The `dkim:` section (R-MAUTH-2): the signing keys, read by the mail
// authentication component. Each entry names a domain, a selector, the key
// file and its state (active signs; publish-only is in `sluice dkim dns` but
// does not sign yet; retired neither).

import SluiceConfig

public struct DKIMSection: ConfigSection {
    public static let key = "dkim"
    public var keys: [DKIMKeySettings] = []

    public init(keys: [DKIMKeySettings]) { self.keys = keys }

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let d = node else { return }
        for item in try d.list() {
            let m = try item.mapping(allowed: ["domain", "selector", "algorithm", "key", "state", "headers", "oversign"])
            guard let domain = m["domain"], let selector = m["selector"] else {
                throw item.error("a DKIM key needs 'domain:' and 'selector:' (and 'key:', a PEM file, unless it is where `sluice dkim keygen` puts it)")
            }
            let (d, s) = (try domain.nonEmptyString().lowercased(), try selector.nonEmptyString())
            // Without key: the file `sluice dkim keygen` writes (DATA_DIR/dkim/DOMAIN.SELECTOR.pem); a shared store keeps
            // keys itself and reads no file.
            let file = try m["key"].map { context.resolve(try $0.nonEmptyString()) } ?? "\(context.dataDir)/dkim/\(d).\(s).pem"
            var k = DKIMKeySettings(domain: d, selector: s, keyFile: file)
            if let a = m["algorithm"] { k.algorithm = try a.choice(DKIMKeySettings.Algorithm.self) }
            if let st = m["state"] { k.state = try st.choice(DKIMKeySettings.State.self) }
            if let h = m["headers"] {
                k.headers = try h.stringList()
                if !(k.headers ?? []).contains(where: { $0.lowercased() == "from" }) { throw h.error("the signed headers must include From") }
            }
            if let o = m["oversign"] { k.oversign = try o.stringList() }
            if keys.contains(where: { $0.domain == k.domain && $0.selector == k.selector }) {
                throw item.error("selector '\(k.selector)' of \(k.domain) is configured twice")
            }
            k.location = item.location
            keys.append(k)
        }
    }
}

extension SluiceConfiguration {
    /// The `dkim:` entries (none when the mail authentication component is not in the list).
    public var dkim: [DKIMKeySettings] { section(DKIMSection.self)?.keys ?? [] }
}

/// One entry of `dkim:`: a signing key for a domain and selector (R-MAUTH-1).
public struct DKIMKeySettings: Sendable, Equatable {
    public var domain: String
    public var selector: String
    public enum Algorithm: String, Sendable, CaseIterable {
        case rsaSHA256 = "rsa-sha256"
        case ed25519SHA256 = "ed25519-sha256"
    }

    public enum State: String, Sendable, CaseIterable {
        /// Signs.
        case active
        /// In `sluice dkim dns`, not signing yet.
        case publishOnly = "publish-only"
        /// Neither; `sluice dkim dns` says its record can go.
        case retired
    }

    /// `algorithm:` rsa-sha256 (default) | ed25519-sha256.
    public var algorithm = Algorithm.rsaSHA256
    /// `key:` the private key file (PEM), made by `sluice dkim keygen`.
    public var keyFile: String
    /// `state:` active | publish-only | retired.
    public var state = State.active
    /// `headers:` header names to sign (default: the usual set, see docs); `oversign:` names signed once more
    /// than present so none can be added (default [From]).
    public var headers: [String]?
    public var oversign: [String]?
    /// Where in the config file this entry is, for messages about it.
    public var location: String = ""

    public init(domain: String, selector: String, keyFile: String) {
        self.domain = domain
        self.selector = selector
        self.keyFile = keyFile
    }
}

