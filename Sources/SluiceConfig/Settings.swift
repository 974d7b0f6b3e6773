// The configuration as plain values with documented defaults. Each key's name
// and default is declared once, here; SluiceConfiguration+YAML.swift reads them.

import Foundation
import SluiceCore

public enum TLSMode: String, Sendable, CaseIterable {
    case none, starttls, implicit
}

public typealias AuthMode = AuthRequirement

public struct ListenerSettings: Sendable {
    public var name: String
    public var host: String
    public var port: Int
    /// `tls:` none | starttls | implicit (default starttls).
    public var tls: TLSMode = .starttls
    /// `require_tls:` refuse MAIL before STARTTLS (default false).
    public var requireTLS = false
    /// `auth:` none | optional | required (default none): SMTP AUTH PLAIN/LOGIN with `sluice creds` credentials.
    public var auth: AuthMode = .none
    /// `auth_requires_tls:` offer AUTH only after STARTTLS or on implicit TLS (default true).
    public var authRequiresTLS = true
    /// `auth_max_failures:` failed AUTH per client IP and per user in a minute before refusing (default 10).
    public var authMaxFailures = 10
    /// `auth_failure_delay:` first delay before a 535; doubles per failure up to 8x (default 1s).
    public var authFailureDelay: Double = 1
    /// `policy:` a name under `policies:` (default: none, relay control only).
    public var policy: String?
    /// `rules:` the rule set file in rules/ (used once the rules engine is configured).
    public var rules: String?
    /// `max_message_size:` (default 25MB; a policy's own limit applies if lower).
    public var maxMessageSize = 25 << 20
    /// `max_recipients:` per message (default 100).
    public var maxRecipients = 100
    /// `max_connections:` at once on this listener (default 1000).
    public var maxConnections = 1000
    /// `max_connections_per_ip:` (default 50).
    public var maxConnectionsPerIP = 50
    /// `command_timeout:` idle time allowed between commands (default 5m).
    public var commandTimeout: Double = 300
    /// `data_timeout:` idle time allowed inside DATA/BDAT (default 10m).
    public var dataTimeout: Double = 600
    /// `bare_lf:` reject | normalize (default reject).
    public var bareLineEndings: BareLineEndingPolicy = .reject
    /// `max_received_headers:` more is a mail loop (default 50).
    public var maxReceivedHeaders = 50
    /// `rules_timeout:` how long checks and rules may take at end of DATA before a 451 (default 30s).
    public var rulesTimeout: Double = 30
    /// `received_auth_user:` name the authenticated user in the Received: header (default false, like
    /// Postfix's smtpd_sasl_authenticated_header: the login name is not shown to recipients).
    public var receivedAuthUser = false
    /// `proxy_protocol:` the listener is behind a load balancer that sends a PROXY v1/v2 header (default false).
    public var proxyProtocol = false
    /// `verify: [spf, dkim, dmarc, arc]`: message authentication of mail received here, written to an
    /// Authentication-Results header and offered to the rules. Default: all three on a listener that admits
    /// untrusted clients (ListenerTrust.swift), none on a relay for trusted networks or a submission listener;
    /// `verify: []` turns it off.
    public var verify: Set<String> = []
    /// Whether `verify:` was written in the configuration (false: `verify` holds the default).
    public var verifyConfigured = false
    /// `proxy_from:` the load balancers' addresses; required with proxy_protocol, others are refused.
    public var proxyFrom: [CIDR] = []
    /// `client_ca:` PEM CA certificates: clients are asked for a certificate, and one they present must chain to
    /// these (required with `auth: mtls`, which refuses MAIL without one).
    public var clientCA: String?
    /// `client_crl:` PEM or DER revocation lists of those CAs: a revoked certificate is refused at MAIL.
    public var clientCRL: String?

    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }
}

public struct TLSSettings: Sendable {
    /// `certificate:` PEM chain (default var/tls/cert.pem; made self-signed if absent).
    public var certificate: String
    /// `key:` PEM private key (default var/tls/key.pem).
    public var key: String
}

public struct DeliverySettings: Sendable {
    /// `store:` the directory the default route writes .eml files to (default var/outbox).
    public var storeDirectory: String
    /// `max_delivery_time:` give up (and bounce) after this long (default 5d).
    public var maxDeliveryTime: Double = 5 * 86400
    /// `retry_schedule:` waits between attempts; the last repeats (default 1m, 5m, 15m, 30m, 1h).
    public var retrySchedule: [Double] = [60, 300, 900, 1800, 3600]
    /// `send_port:` the port direct MX delivery (`send`) connects to (default 25; tests point it at a sink).
    public var sendPort = 25
    /// `tls_policy:` TLS for direct MX delivery per recipient domain (verify | may | none), its `*` entry the default
    /// (may: opportunistic STARTTLS). A domain's own entry overrides what the domain publishes (MTA-STS).
    public var tlsPolicy: [String: DomainTLSPolicy.Mode] = ["*": .may]
    /// `send_tls:` the alias of `tls_policy`'s `*` entry: opportunistic (may) | required (verify) | none.
    public var sendTLS: OutboundTLS {
        get { (tlsPolicy["*"] ?? .may).outbound }
        set { tlsPolicy["*"] = DomainTLSPolicy.Mode(newValue) }
    }
    /// `ca_file:` PEM trust roots added to the system's for verifying every outbound TLS peer (MX hosts, upstreams,
    /// policy hosts).
    public var caFile: String?
    /// `mta_sts:` where MTA-STS policies are fetched from.
    public var mtaSTS = MTASTSSettings()
    /// The error to give if no trust anchor is configured: a `dane-only` entry, which needs DNSSEC.
    var daneNeedsAnchor: ConfigError?
    /// `destination_concurrency:` connections at once to one recipient domain for `send` (default 20, like Postfix).
    public var destinationConcurrency = 20
    /// `connection_idle_timeout:` an outbound connection kept for the next message is closed (with QUIT) after this long
    /// unused (default 10s; 0 keeps none).
    public var connectionIdleTimeout: Double = 10
    /// `connection_reuse_limit:` an outbound connection carries no new message after this long since it was opened
    /// (default 300s, Postfix's smtp_connection_reuse_time_limit), so a server's changed configuration reaches us.
    public var connectionReuseLimit: Double = 300
}

/// `delivery.mta_sts: { https_port, ca_file }`: the HTTPS port of policy hosts (443; tests point it elsewhere) and
/// the trust roots their certificates are verified against (default: `delivery.ca_file`, then the system's).
public struct MTASTSSettings: Sendable, Equatable {
    public var httpsPort = 443
    public var caFile: String?
    public init() {}
}

/// `storage: { backend: sqlite }`: which implementation keeps the shared state (credentials, rate limits, the archive,
/// the quarantine index, DKIM keys); the embedded `sqlite` (files on this machine) is the default.
public struct StorageSettings: Sendable, Equatable {
    public var backend = "sqlite"
    /// Where `backend` is written ("file:line:column"), for the error naming a backend no component provides.
    public var location = ""
    public init() {}
}

/// `queue: { min_free: 512MiB }` (R-CORE-3): below this much free space in the data directory, new
/// transactions get 452 4.3.1 at MAIL until space returns (Postfix's queue_minfree).
public struct QueueSettings: Sendable, Equatable {
    public var minFree = 512 << 20
    public init() {}
}

/// `dns: { nameserver: system | HOST:PORT, timeout: 10s, trust_anchor: FILE }`: the resolver every lookup uses (R-MAUTH-3).
public struct DNSSettings: Sendable, Equatable {
    /// nil: the system's nameservers (/etc/resolv.conf); else one nameserver, e.g. 127.0.0.1:5353.
    public var nameserver: (host: String, port: Int)?
    /// `timeout:` the longest one lookup may take before it counts as a temporary failure (default 10s).
    public var timeout: Double = 10
    /// `trust_anchor:` DS or DNSKEY records (e.g. /usr/share/dns/root.key) DNSSEC validates from, for DANE; nil: no
    /// validation (every answer insecure).
    public var trustAnchor: String?

    public static func == (a: DNSSettings, b: DNSSettings) -> Bool {
        a.nameserver?.host == b.nameserver?.host && a.nameserver?.port == b.nameserver?.port && a.timeout == b.timeout
            && a.trustAnchor == b.trustAnchor
    }
}

public struct AdminSettings: Sendable {
    /// `address:` of the admin HTTP listener: /metrics, /healthz, /readyz, /status (default 127.0.0.1:9325).
    public var host = "127.0.0.1"
    public var port = 9325
}

public struct SluiceConfiguration: Sendable {
    /// Where this configuration was read from.
    public var file: String
    /// What relative paths resolve against: the parent of the config file's directory.
    public var baseDirectory: String
    /// `hostname:` the name in the greeting and Received headers (default: the machine's name).
    public var hostname: String
    /// `data_dir:` queue, outbox, TLS material and state (default var).
    public var dataDir: String
    /// `rules_dir:` (default rules/ beside etc/).
    public var rulesDir: String
    public var tls: TLSSettings
    public var listeners: [ListenerSettings]
    public var policies: [String: TrafficPolicy]
    /// `networks: { trusted: [...] }` may relay to any domain (default 127.0.0.0/8, ::1/128).
    public var trustedNetworks: [CIDR]
    /// `senders: { trusted: [...] }` domains/addresses trusted networks may send as (default: any).
    public var trustedSenders: [String]?
    /// `local_domains:` domains Sluice accepts mail for from anyone (default none).
    public var localDomains: [String]
    /// `certificates:` client certificates that vouch for their mail on listeners with `client_ca:` (default none).
    public var certificates: [CertificatePrincipal] = []
    public var delivery: DeliverySettings
    public var admin: AdminSettings
    public var dns = DNSSettings()
    public var queue = QueueSettings()
    public var storage = StorageSettings()
    /// The sections components read (`archives:`, `upstreams:` ...), by key (section(_:) gives them typed).
    public var sections: [String: any ConfigSection] = [:]

    public var archiveFile: String { (dataDir as NSString).appendingPathComponent("archive.sqlite") }

    /// A path from the config or a rule file, made absolute against `baseDirectory`.
    public func resolve(_ path: String) -> String { Self.resolve(path, against: baseDirectory) }

    static func resolve(_ path: String, against base: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }

    public var queueDirectory: String { (dataDir as NSString).appendingPathComponent("queue") }
    public var credentialsFile: String { (dataDir as NSString).appendingPathComponent("credentials.sqlite") }
}
