// PolicyFetcher: GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC
// 8461 §3.3) with async-http-client: the policy host's name resolved by
// Sluice's resolver (handed to the client as a DNS override, so that the
// certificate is still verified for that name), the certificate verified
// against the system's roots and `mta_sts.ca_file`, no redirect followed,
// 200 with text/plain only, at most 64 KiB, within a deadline.

import AsyncHTTPClient
import NIOCore
import NIOSSL
import SluiceCore

/// Where policy texts come from: HTTPS in the daemon, a table in unit tests.
protocol PolicyFetching: Sendable {
    func fetch(_ domain: String) async throws(PolicyFetchFailure) -> String
}

struct PolicyFetchFailure: Error, CustomStringConvertible {
    var description: String
}

struct PolicyFetcher: PolicyFetching {
    let group: any EventLoopGroup
    let resolver: any DNSResolver
    let port: Int
    let tls: TLSConfiguration
    /// RFC 8461 §3.3: senders may limit the policy's size (64 KiB is what it suggests) and the time a fetch takes.
    static let sizeLimit = 64 * 1024
    static let deadline: TimeAmount = .seconds(30)

    typealias Failure = PolicyFetchFailure

    init(group: any EventLoopGroup, resolver: any DNSResolver, port: Int, caFile: String?) {
        self.group = group
        self.resolver = resolver
        self.port = port
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let caFile { tls.additionalTrustRoots = [.file(caFile)] }
        self.tls = tls
    }

    /// The policy text, or why there is none.
    func fetch(_ domain: String) async throws(Failure) -> String {
        let host = "mta-sts.\(domain)"
        let address = try await address(of: host)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(20)))
        configuration.dnsOverride = [host: address]
        let client = HTTPClient(eventLoopGroup: group, configuration: configuration)
        let result: Result<String, Failure>
        do {
            result = .success(try await get(client, url: "https://\(host)\(port == 443 ? "" : ":\(port)")/.well-known/mta-sts.txt"))
        } catch let f as Failure {
            result = .failure(f)
        } catch {
            result = .failure(Failure(description: "\(host): \(error)"))
        }
        // The client holds connections and must be shut down before it is released, whatever the fetch did; a
        // shutdown that fails has nothing left to release, and the fetch's result stands.
        try? await client.shutdown()
        return try result.get()
    }

    private func get(_ client: HTTPClient, url: String) async throws -> String {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: Self.deadline)
        guard response.status == .ok else {
            throw Failure(description: "\(url) answered \(response.status.code)\(response.status.code / 100 == 3 ? " (redirects are not followed)" : "")")
        }
        let type = response.headers.first(name: "content-type")?.lowercased() ?? ""
        guard type.hasPrefix("text/plain") else { throw Failure(description: "\(url) is \(type.isEmpty ? "without a content type" : type), not text/plain") }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: Self.sizeLimit)
        } catch is NIOTooManyBytesError {
            throw Failure(description: "\(url) is larger than \(Self.sizeLimit / 1024) KiB")
        }
        return String(buffer: body)
    }

    /// The policy host's first address (IPv4 first), through Sluice's resolver.
    private func address(of host: String) async throws(Failure) -> String {
        var trouble: String?
        for type in [DNSRecordType.a, .aaaa] {
            do {
                if let first = try await resolver.lookup(host, type).addresses.first { return first }
            } catch {
                trouble = error.message
            }
        }
        throw Failure(description: "\(host) has no address\(trouble.map { " (\($0))" } ?? "")")
    }
}
