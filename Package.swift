// swift-tools-version:6.0
import PackageDescription

// One list of compiler settings shared by every target (STYLE §13).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Vocabulary shared by every stage: addresses, envelope, queue id,
        // SMTP replies and the pipeline contracts. No I/O.
        .target(
            name: "SluiceCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The SMTP protocol with no I/O: command parser, address grammar,
        // reply formatting, the server session state machine, DATA/BDAT receivers.
        .target(
            name: "SluiceSMTP",
            dependencies: [
                "SluiceCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The accept stage: traffic policies and relay control, as pure evaluation.
        .target(
            name: "SluicePolicy",
            dependencies: ["SluiceCore", "SluiceConfig", "SluicePipeline", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // Rule sets: model, loader with file:line:column errors, per-recipient evaluator, planner. No I/O
        // beyond reading rules/ at load time.
        .target(
            name: "SluiceRules",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceSMTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Configuration values with defaults, and their YAML reader with file:line:column errors.
        .target(
            name: "SluiceConfig",
            dependencies: ["SluiceCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // libunbound (Debian libunbound-dev), linked directly: its .pc file requires libevent's.
        .systemLibrary(
            name: "CUnbound",
            providers: [.apt(["libunbound-dev"])]
        ),
        // The DNS resolver component every lookup goes through (R-MAUTH-3), on libunbound.
        .target(
            name: "SluiceDNS",
            dependencies: [
                "SluiceCore", "SluiceConfig", "CUnbound",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // libopendkim (Debian libopendkim-dev), found with pkg-config.
        .systemLibrary(
            name: "COpenDKIM",
            pkgConfig: "opendkim",
            providers: [.apt(["libopendkim-dev"])]
        ),
        // OpenSSL's libcrypto (Debian libssl-dev), found with pkg-config: DKIM private keys parsed once.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // zlib (Debian zlib1g-dev), for deflated zip entries.
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // glibc's malloc.h: the daemon gives memory back after a burst.
        .systemLibrary(name: "CMalloc"),
        // syncfs(2): a batch of queue states made durable with one flush.
        .systemLibrary(name: "CSyncFS"),
        // libarchive (Debian libarchive-dev), found with pkg-config: every archive format DLP opens besides zip and gzip.
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]
        ),
        // Poppler's GLib interface (Debian libpoppler-glib-dev), found with pkg-config: PDF text for DLP.
        .systemLibrary(
            name: "CPoppler",
            pkgConfig: "poppler-glib",
            providers: [.apt(["libpoppler-glib-dev"])]
        ),
        // Tesseract and Leptonica (Debian libtesseract-dev, libleptonica-dev; data: tesseract-ocr-eng), found with
        // pkg-config: the text in images, for DLP profiles with `ocr: true`.
        .systemLibrary(
            name: "CTesseract",
            pkgConfig: "tesseract",
            providers: [.apt(["libtesseract-dev", "libleptonica-dev"])]
        ),
        // vectorscan (Debian libvectorscan-dev), the portable Hyperscan.
        .systemLibrary(
            name: "CHyperscan",
            pkgConfig: "libhs",
            providers: [.apt(["libvectorscan-dev"])]
        ),
        // DLP (R-DLP): MIME-aware streaming decoding, validated detectors, one-pass matching on vectorscan.
        .target(
            name: "SluiceDLP",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluicePipeline", "CHyperscan", "CZlib", "CPoppler", "CArchive", "CTesseract",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // DNS block and allow lists (RFC 5782): the client asked of each list at connect; dnsbl:/dnswl: conditions.
        .target(
            name: "SluiceDNSList",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluicePipeline",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Content scanners administrators already run (clamd; spamd next): scan stages and their conditions.
        .target(
            name: "SluiceScanners",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluicePipeline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Client certificates (R-SMTP-2 auth: mtls): revocation lists (libcrypto), the tls_client_cert condition.
        .target(
            name: "SluiceClientCertificates",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluicePipeline", "COpenSSL",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // LMTP delivery to mail stores (R-DELIVER-5): the lmtp target and deliver_lmtp: action.
        .target(
            name: "SluiceLMTP",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluicePipeline", "SluiceDelivery", "SluiceSMTP",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Sender Rewriting Scheme (R-DELIVER-5): rewrite_sender: srs, and bounces to SRS addresses.
        .target(
            name: "SluiceSRS",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluicePipeline",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Webhook delivery (R-DELIVER-5): the message as signed JSON to an application, with async-http-client.
        .target(
            name: "SluiceWebhook",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluicePipeline", "SluiceDelivery",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Outbound TLS for `send` (R-DELIVER-6): DANE (RFC 7672) from DNSSEC-secure TLSA records, MTA-STS (RFC 8461)
        // policies fetched with async-http-client and cached under data_dir, the administrator's tls_policy table.
        .target(
            name: "SluiceOutboundTLS",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluicePipeline", "SluiceSMTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // ARC (RFC 8617, R-DELIVER-5): chains validated on listeners that verify arc, arc_seal: with the DKIM keys.
        .target(
            name: "SluiceARC",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluicePipeline", "SluiceMailAuth", "SluiceQueue", "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Archives (R-ARCHIVE): SQLite with FTS5 behind the ArchiveStore contract, the archive target, mbox.
        .target(
            name: "SluiceArchive",
            dependencies: [
                "SluiceCore", "SluiceQueue", "SluiceDLP", "SluiceRules", "SluicePipeline", "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // libspf2 (Debian libspf2-dev; it ships no .pc file).
        .systemLibrary(
            name: "CSPF2",
            providers: [.apt(["libspf2-dev"])]
        ),
        // Message authentication (R-MAUTH): DKIM signing and verification on libopendkim, SPF on
        // libspf2, DMARC; no C pointer leaves the module.
        .target(
            name: "SluiceMailAuth",
            dependencies: [
                "SluiceCore", "SluiceQueue", "SluiceRules", "SluicePipeline", "COpenDKIM", "COpenSSL", "CSPF2",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The pipeline (R-CORE-1) and the component contract (R-CORE-5): the one runtime value built from the
        // config by the components, the host they activate (stages, session checks, targets, modifiers,
        // services), the signing policy and the decision. The daemon, `sluice rules test` and `sluice check` all
        // go through it.
        .target(
            name: "SluicePipeline",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceRules", "SluiceQueue",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Admin operations (R-OPS): what the CLI calls now and an HTTP admin API will call later; each CLI command
        // parses, calls one of these, and prints.
        .target(
            name: "SluiceAdmin",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluicePipeline", "SluiceRules", "SluiceSMTP", "SluiceCredentials", "SluiceArchive", "SluiceMailAuth", "SluiceQueue",
                "SluiceQuarantine", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The quarantine index (what is held where), kept following the queue.
        .target(
            name: "SluiceQuarantine",
            dependencies: [
                "SluiceCore", "SluiceQueue", "SluicePipeline",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The composition root: the list of components every command builds from.
        .target(
            name: "SluiceComponents",
            dependencies: [
                "SluicePipeline", "SluicePolicy", "SluiceCredentials", "SluiceMailAuth", "SluiceDLP", "SluiceDelivery", "SluiceArchive",
                "SluiceQuarantine", "SluiceDNSList", "SluiceScanners", "SluiceClientCertificates", "SluiceLMTP", "SluiceSRS", "SluiceWebhook", "SluiceARC",
                "SluiceOutboundTLS", "SluicePostgres",
            ],
            swiftSettings: swiftSettings
        ),
        // The shared store: the postgres backend of every storage contract (credentials and the AUTH throttle,
        // rate limits, the quarantine index, the archive, DKIM keys), on postgres-nio; versioned migrations.
        .target(
            name: "SluicePostgres",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluicePipeline", "SluiceCredentials", "SluicePolicy", "SluiceQuarantine", "SluiceArchive",
                "SluiceMailAuth", "SluiceAdmin", "SluiceQueue",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The durable on-disk queue (Postfix discipline: write, fsync, rename, fsync dir).
        .target(
            name: "SluiceQueue",
            dependencies: [
                "SluiceCore", "CZlib", "CSyncFS", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // SMTP AUTH credentials (per-device tokens, hashed, rotatable) in SQLite, sender
        // identity rules, and the failed-login throttle.
        .target(
            name: "SluiceCredentials",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluicePipeline", .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Delivery targets and the queue manager that drives them.
        .target(
            name: "SluiceDelivery",
            dependencies: [
                "SluiceCore", "SluiceQueue", "SluiceSMTP", "SluiceRules", "SluicePipeline",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // SwiftNIO glue: listeners, the channel handler that runs the SMTP session, TLS.
        .target(
            name: "SluiceServer",
            dependencies: [
                "SluiceCore", "SluiceSMTP", "SluiceQueue",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The daemon: builds the pipeline from the config and runs it as a ServiceGroup.
        .target(
            name: "SluiceDaemon",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceSMTP", "SluiceQueue", "SluiceDelivery", "SluiceServer", "SluiceRules", "SluiceDNS",
                "SluicePipeline", "SluiceAdmin", "CMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command-line verbs (serve, check, queue ...), behind a thin executable.
        .target(
            name: "SluiceCLI",
            dependencies: [
                "SluiceCore", "SluiceConfig", "SluiceQueue", "SluiceDaemon", "SluiceCredentials", "SluiceRules", "SluiceMailAuth", "SluiceDLP",
                "SluiceArchive", "SluicePipeline", "SluiceDNS", "SluiceComponents", "SluiceScanners", "SluiceDNSList", "SluiceDelivery", "SluiceAdmin", "SluiceQuarantine",
                "SluiceOutboundTLS",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sluice",
            dependencies: ["SluiceCLI"],
            swiftSettings: swiftSettings
        ),
        // Fuzz targets (R-REL-2): the SMTP session, the MIME scanner and the rule loader as functions
        // of bytes, and the driver that runs them under libFuzzer (make fuzz) or replays files.
        .target(
            name: "SluiceFuzz",
            dependencies: ["SluiceCore", "SluiceSMTP", "SluiceDLP", "SluiceRules", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "fuzz-smtp", dependencies: ["SluiceFuzz"], swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-mime", dependencies: ["SluiceFuzz"], swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-rules", dependencies: ["SluiceFuzz"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SluiceOutboundTLSTests",
            dependencies: [
                "SluiceOutboundTLS", "SluiceCore", "SluiceConfig", "SluicePipeline", "SluiceTestSupport", .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceWebhookTests",
            dependencies: ["SluiceWebhook", "SluiceCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceARCTests",
            dependencies: ["SluiceARC"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceSRSTests",
            dependencies: ["SluiceSRS", "SluiceCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceScannersTests",
            dependencies: ["SluiceScanners", "SluiceConfig", "SluiceCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceDNSListTests",
            dependencies: ["SluiceDNSList", "SluiceConfig", "SluiceCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceFuzzTests",
            dependencies: ["SluiceFuzz"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceSMTPTests",
            dependencies: [
                "SluiceSMTP", "SluiceServer", "SluiceCore", "SluiceQueue", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test helpers shared by test targets (the fixture DNS server).
        .target(
            name: "SluiceTestSupport",
            dependencies: ["SluiceCore"],
            path: "Tests/SluiceTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceDNSTests",
            dependencies: ["SluiceDNS", "SluiceCore", "SluiceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceDeliveryTests",
            dependencies: [
                "SluiceDelivery", "SluiceCore", "SluiceSMTP", "SluiceTestSupport", .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceMailAuthTests",
            dependencies: ["SluiceMailAuth", "SluiceDNS", "SluiceCore", "SluiceTestSupport", "SluiceStoreContracts"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceDLPTests",
            dependencies: ["SluiceDLP"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceArchiveTests",
            dependencies: [
                "SluiceArchive", "SluiceTestSupport", "SluiceStoreContracts", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluicePolicyTests",
            dependencies: ["SluicePolicy", "SluiceCore", "SluiceConfig", "SluiceStoreContracts", "SluiceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceConfigTests",
            dependencies: ["SluiceConfig", "SluiceCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceQueueTests",
            dependencies: ["SluiceQueue", "SluiceCore"],
            swiftSettings: swiftSettings
        ),
        // The storage contracts' test suites, written against the protocols: each backend's tests run them.
        .target(
            name: "SluiceStoreContracts",
            dependencies: [
                "SluiceCredentials", "SluicePolicy", "SluiceArchive", "SluiceMailAuth", "SluiceQuarantine", "SluiceConfig", "SluiceTestSupport",
                "SluiceCore",
            ],
            path: "Tests/SluiceStoreContracts",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceQuarantineTests",
            dependencies: ["SluiceQuarantine", "SluiceQueue", "SluiceCore", "SluiceStoreContracts", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluicePostgresTests",
            dependencies: [
                "SluicePostgres", "SluicePipeline", "SluiceConfig", "SluiceCore", "SluiceCredentials", "SluicePolicy", "SluiceQuarantine",
                "SluiceArchive", "SluiceMailAuth", "SluiceStoreContracts", "SluiceTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceCredentialsTests",
            dependencies: ["SluiceCredentials", "SluiceCore", "SluiceStoreContracts", "SluiceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceRulesTests",
            dependencies: ["SluiceRules", "SluiceCore", "SluiceConfig", "SluiceDLP", "SluiceMailAuth", "SluiceArchive", "SluiceDelivery"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluicePipelineTests",
            dependencies: ["SluicePipeline", "SluiceCore", "SluiceConfig", "SluiceRules", "SluiceComponents", "SluicePolicy", "SluiceDelivery", "SluiceMailAuth", "SluiceArchive"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceDaemonTests",
            dependencies: [
                "SluiceDaemon", "SluiceCore", "SluiceAdmin", "SluiceDelivery", "SluiceQueue", "SluiceTestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A component defined outside Sources, registered on the composition root: the open core, proved.
        .testTarget(
            name: "SluiceOpennessTests",
            dependencies: [
                "SluiceAdmin", "SluiceComponents", "SluiceConfig", "SluiceCore", "SluiceDaemon", "SluicePipeline", "SluiceRules", "SluiceQuarantine",
                "SluiceQueue", "SluiceStoreContracts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceIntegrationTests",
            dependencies: [
                "SluiceCore", "SluiceQueue", "SluiceTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
