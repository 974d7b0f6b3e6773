// The composition root: every capability of this build, as components, in
// pipeline order. `sluice serve`, `rules test`, `check` and `reload` all
// build from this list, and nothing else enumerates stages, targets or
// modifiers. Adding a capability is one line here (and its module in
// Package.swift); see "Extending Sluice" in the README.

import SluiceARC
import SluiceArchive
import SluiceClientCertificates
import SluiceCredentials
import SluiceDLP
import SluiceDNSList
import SluiceDelivery
import SluiceLMTP
import SluiceMailAuth
import SluiceOutboundTLS
import SluicePipeline
import SluicePolicy
import SluicePostgres
import SluiceQuarantine
import SluiceSRS
import SluiceScanners
import SluiceWebhook

public enum Components {
    public static let standard: [any Component] = [
        DNSListComponent(),  // DNS block and allow lists asked at connect and MAIL; dnsbl: and dnswl: conditions (before the policy, which tests them)
        PolicyComponent(),  // traffic policies, relay control, rate limits (during the dialogue)
        ClientCertificatesComponent(),  // client certificates: revocation lists at MAIL, tls_client_cert: conditions
        SenderIdentityComponent(),  // who may send as whom; SMTP AUTH; the sender stage
        MailAuthComponent(),  // SPF, DKIM, DMARC verification; DKIM keys and signing
        ARCComponent(),  // ARC chains verified (verify: [arc]); arc: conditions; arc_seal: after DKIM signing
        DLPComponent(),  // the inspect stage; dlp: and attachment: conditions
        ScannersComponent(),  // clamd as a scan stage; scanners:; virus: conditions
        DeliveryComponent(),  // store, relay, send and bounce targets; upstreams:
        OutboundTLSComponent(),  // TLS for send per recipient domain: tls_policy entries, DANE, MTA-STS (delivery.tls_policy, delivery.mta_sts)
        LMTPComponent(),  // lmtp targets (Dovecot, Cyrus); lmtp:; deliver_lmtp:
        WebhookComponent(),  // webhook targets (signed JSON over HTTP); webhooks:; webhook:
        SRSComponent(),  // srs:; rewrite_sender: srs; bounces to SRS addresses checked and reversed
        ArchiveComponent(),  // archive: targets; archives:, archive_encryption:; retention
        QuarantineComponent(),  // the index of what is held in quarantine
        PostgresComponent(),  // storage.backend: postgres: credentials, AUTH throttle, rate limits, quarantine index shared by several nodes
    ]
}
