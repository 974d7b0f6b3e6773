// WebhookComponent: delivery to applications over HTTP as a component:
// `webhooks:` read here and each secret read when a runtime is built
// (unreadable or empty: an error; readable by others: a warning), the
// `webhook` target kind, the `webhook:` action, and in the daemon the target
// on one async-http-client (redirects never followed), shut down with the
// daemon.

import AsyncHTTPClient
import Foundation
import ServiceLifecycle
import SluiceConfig
import SluiceCore
import SluicePipeline

public struct WebhookComponent: Component {
    public let name = "webhook"
    public var sections: [any ConfigSection.Type] { [WebhooksSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        var keys: [String: [UInt8]] = [:]
        for w in runtime.config.webhooks.values.sorted(by: { $0.name < $1.name }) {
            guard let data = FileManager.default.contents(atPath: w.secretFile) else {
                throw RuntimeError("webhook \(w.name): cannot read secret_file \(w.secretFile)")
            }
            let secret = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            guard !secret.isEmpty else { throw RuntimeError("webhook \(w.name): secret_file \(w.secretFile) is empty") }
            // The file was just read; its mode only decides a warning.
            if let mode = (try? FileManager.default.attributesOfItem(atPath: w.secretFile))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
                runtime.warn("webhook \(w.name): secret_file \(w.secretFile) is readable by others; chmod 600 it")
            }
            if !w.secure { runtime.warn("webhook \(w.name): \(w.url) is plain http: the message crosses the network unencrypted") }
            keys[w.name] = secret
        }
        runtime.set(WebhookSecrets(keys: keys))
        let names = Set(runtime.config.webhooks.keys)
        try runtime.declareTarget(kind: "webhook", instances: names)
        try runtime.add(WebhookActionKind(names: names))
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon else { return }
        let env = host.environment
        guard let group = env.eventLoops else { throw RuntimeError("webhook delivery needs the event loops") }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10))
        let client = HTTPClient(eventLoopGroup: group, configuration: configuration)
        let runtime = env.runtime
        let target = WebhookTarget(client: client, io: env.executors.files, clock: env.clock) {
            let current = runtime.current
            return (current.config.webhooks, current.part(WebhookSecrets.self))
        }
        try host.add(target: target, kind: "webhook")
        host.add(service: HTTPClientShutdown(client: client))
    }
}

/// Shuts the client down with the daemon (an HTTPClient must be shut down before it is released).
struct HTTPClientShutdown: Service {
    let client: HTTPClient

    func run() async throws {
        // gracefulShutdown() throws only when the task is cancelled, which is the end this waits for.
        try? await gracefulShutdown()
        try? await client.shutdown()
    }
}
