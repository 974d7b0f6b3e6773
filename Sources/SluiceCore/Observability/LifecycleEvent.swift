// The catalogue of lifecycle events and of log keys (R-OPS-1). Every log line
// about mail carries `event` from this list; fields use these key names, so
// `sluice trace` and log pipelines can rely on them.

import Logging

public enum LifecycleEvent: String, Sendable, CaseIterable {
    // Connections
    case connect, disconnect, tls, timeout, auth
    // Dialogue and acceptance
    case reject, data, queued
    // Queue and delivery
    case delivered, deferred, failed, bounced, removed, recover
    /// One host of a route failed (the route goes on with the next host).
    case attempt
    /// An upstream host went to rest after failures, or came back.
    case upstreamHealth = "upstream_health"
    // Rules
    case rule, dropped, quarantined, released
    /// DLP findings of one detector in one message (redacted).
    case dlp
    /// The SPF, DKIM and DMARC results of one message.
    case verify
    /// A recipient domain's published outbound TLS policy (MTA-STS) fetched, kept from the cache, or not to be had.
    case tlsPolicy = "tls_policy"
    // Daemon
    case listening, ready, reload
    /// A self-signed certificate was made for the TLS listeners.
    case tlsCertificate = "tls_certificate"
    /// Something in the configuration that works but deserves attention (a password file others can read).
    case configWarning = "config_warning"
    case reloadFailed = "reload_failed"
    case stopping, stopped
    case error
}

public enum LogKey: String, Sendable {
    case event
    case queueID = "queue_id"
    case session
    case client
    case listener
    case helo
    case from
    case recipient
    case recipients
    case reply
    case reason
    case route
    case durationMS = "duration_ms"
    case latencyMS = "latency_ms"
    /// End of DATA to the 250 reply: checks, rules and the durable commit.
    case replyMS = "reply_ms"
    case size
    case tlsVersion = "tls_version"
    case tlsCipher = "tls_cipher"
    /// The verified client certificate: its subject and SHA-256 fingerprint (never the certificate itself).
    case tlsClientCert = "tls_client_cert"
    case user
    case credential
    case mechanism
    case rule
    case actions
    case address
    case port
    case file
    case error
    case detector
    case count
    /// Which domains a message is DKIM-signed for and why, or why it is not (R-CORE-2).
    case signing
    /// The host a delivery attempt reached ("mx.example.org[192.0.2.1]:25").
    case remote
    /// What the transport to it did ("TLSv1.3 TLS_AES_256_GCM_SHA384, not verified").
    case transport
    /// A deferral's earliest next attempt.
    case notBefore = "not_before"
    /// The recipient domain a policy is about.
    case domain
    /// The TLS policy a delivery followed or a domain published ("mta-sts enforce").
    case policy
    /// What started it: a reload's "SIGHUP", or why a component asked for one.
    case trigger
}

extension Logger {
    /// Logs one lifecycle event with its fields.
    public func event(
        _ event: LifecycleEvent, level: Logger.Level = .info, _ message: @autoclosure () -> Logger.Message,
        _ fields: [LogKey: String] = [:]
    ) {
        guard level >= logLevel else { return }
        var metadata: Logger.Metadata = [LogKey.event.rawValue: .string(event.rawValue)]
        for (k, v) in fields { metadata[k.rawValue] = .string(v) }
        log(level: level, message(), metadata: metadata)
    }

    public subscript(key: LogKey) -> String? {
        get { self[metadataKey: key.rawValue].map { "\($0)" } }
        set { self[metadataKey: key.rawValue] = newValue.map { .string($0) } }
    }
}
