// SPFChecker: SPF (RFC 7208) with libspf2, whose DNS goes through Sluice's
// resolver component: a libspf2 DNS layer whose lookup function asks the
// resolver and waits for the answer. Checks therefore run on a blocking
// thread (the file I/O pool), never on an event loop. libspf2 enforces the
// 10-lookup limit; the void-lookup limit (§4.6.4: more than two lookups
// answering NXDOMAIN or no data) is counted here, in the DNS layer.

import CSPF2
import Foundation
import NIOConcurrencyHelpers
import SluiceCore

public struct SPFResult: Sendable, Hashable {
    public enum Verdict: String, Sendable {
        case pass, fail, softfail, neutral, none, temperror, permerror
    }

    public var verdict: Verdict
    /// The identity checked: the MAIL FROM domain, or the HELO name for the null sender.
    public var identity: String
    /// "mailfrom" or "helo" (RFC 8601 ptype.property smtp.mailfrom / smtp.helo).
    public var scope: String
    public var explanation: String?
}

public final class SPFChecker: Sendable {
    let resolver: any DNSResolver
    let hostname: String
    /// More void lookups than this make the check a permerror (RFC 7208 §4.6.4).
    static let voidLookupLimit = 2

    public init(resolver: any DNSResolver, hostname: String) {
        self.resolver = resolver
        self.hostname = hostname
    }

    /// Blocking: runs libspf2, whose lookups wait for the resolver. Call it off the event loop.
    public func check(clientIP: String, helo: String, sender: MailAddress?) -> SPFResult {
        let scope = sender == nil ? "helo" : "mailfrom"
        let identity = sender?.domain ?? helo
        let context = LookupContext(resolver: resolver)
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        let layer = UnsafeMutablePointer<SPF_dns_server_t>.allocate(capacity: 1)
        layer.initialize(to: SPF_dns_server_t())
        defer { layer.deallocate() }
        layer.pointee.lookup = spfLookup
        layer.pointee.hook = unmanaged.toOpaque()
        let name = strdup("sluice")
        defer { free(name) }
        layer.pointee.name = UnsafePointer(name)

        func failed(_ why: String) -> SPFResult {
            SPFResult(verdict: .temperror, identity: identity, scope: scope, explanation: why)
        }
        guard let server = SPF_server_new_dns(layer, 0) else { return failed("libspf2 could not start") }
        defer { SPF_server_free(server) }
        _ = SPF_server_set_rec_dom(server, hostname)
        guard let request = SPF_request_new(server) else { return failed("libspf2 could not make a request") }
        defer { SPF_request_free(request) }
        let ipSet = clientIP.contains(":") ? SPF_request_set_ipv6_str(request, clientIP) : SPF_request_set_ipv4_str(request, clientIP)
        guard ipSet == SPF_E_SUCCESS else { return failed("bad client address \(clientIP)") }
        _ = SPF_request_set_helo_dom(request, helo)
        if let sender {
            _ = SPF_request_set_env_from(request, sender.description)
        }
        var response: UnsafeMutablePointer<SPF_response_t>?
        _ = sluice_spf_query_mailfrom(request, &response)
        guard let response else { return failed("libspf2 gave no response") }
        defer { SPF_response_free(response) }
        var verdict = Self.verdict(SPF_response_result(response))
        var explanation = SPF_response_get_smtp_comment(response).map { String(cString: $0) }
        let voids = context.voidLookups.withLockedValue { $0 }
        if let dnsTrouble = context.temporaryFailure.withLockedValue({ $0 }), verdict == .permerror || verdict == .none {
            // RFC 7208 4.4 and 5: a DNS error (not "no such record") makes the result a temperror.
            verdict = .temperror
            explanation = dnsTrouble
        } else if voids > Self.voidLookupLimit && verdict != .temperror {
            verdict = .permerror
            explanation = "more than \(Self.voidLookupLimit) void DNS lookups (RFC 7208 4.6.4)"
        }
        if verdict == .permerror, explanation == nil {
            explanation = SPF_strerror(SPF_response_errcode(response)).map { String(cString: $0) }
        }
        return SPFResult(verdict: verdict, identity: identity, scope: scope, explanation: explanation)
    }

    static func verdict(_ r: SPF_result_t) -> SPFResult.Verdict {
        switch r {
        case SPF_RESULT_PASS: return .pass
        case SPF_RESULT_FAIL: return .fail
        case SPF_RESULT_SOFTFAIL: return .softfail
        case SPF_RESULT_NEUTRAL: return .neutral
        case SPF_RESULT_NONE: return .none
        case SPF_RESULT_TEMPERROR: return .temperror
        default: return .permerror
        }
    }
}

/// What one SPF check's DNS layer needs: the resolver, and the void lookups so far.
final class LookupContext: Sendable {
    let resolver: any DNSResolver
    let voidLookups = NIOLockedValueBox(0)
    let firstTXT = NIOLockedValueBox(true)
    /// A lookup failed for now (SERVFAIL, timeout): the answer is a temperror, whatever libspf2 concluded.
    let temporaryFailure = NIOLockedValueBox<String?>(nil)

    init(resolver: any DNSResolver) { self.resolver = resolver }

    /// Waits for the resolver (the calling thread is a blocking one, never the cooperative pool's).
    func lookup(_ name: String, _ type: DNSRecordType) -> Result<DNSAnswer, DNSError> {
        let box = NIOLockedValueBox<Result<DNSAnswer, DNSError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let resolver = self.resolver
        Task {
            do throws(DNSError) {
                let answer = try await resolver.lookup(name, type)
                box.withLockedValue { $0 = .success(answer) }
            } catch {
                box.withLockedValue { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return box.withLockedValue { $0! }
    }
}

/// The libspf2 DNS layer: answers from the resolver component as libspf2's resource records.
private let spfLookup: @convention(c) (UnsafeMutablePointer<SPF_dns_server_t>?, UnsafePointer<CChar>?, ns_type, Int32) -> UnsafeMutablePointer<SPF_dns_rr_t>? = {
    layer, domainPointer, rrType, _ in
    guard let layer, let domainPointer, let hook = layer.pointee.hook else { return nil }
    let context = Unmanaged<LookupContext>.fromOpaque(hook).takeUnretainedValue()
    let domain = String(cString: domainPointer)
    guard let type = DNSRecordType(rawValue: Int(rrType.rawValue)) else {
        return SPF_dns_rr_new_init(layer, domainPointer, rrType, 0, NO_DATA)
    }
    switch context.lookup(domain, type) {
    case .failure(let error):
        if error.temporary { context.temporaryFailure.withLockedValue { $0 = $0 ?? error.message } }
        return SPF_dns_rr_new_init(layer, domainPointer, rrType, 0, error.temporary ? TRY_AGAIN : HOST_NOT_FOUND)
    case .success(let answer):
        let isFirstTXT = type == .txt && context.firstTXT.withLockedValue { first in
            defer { first = false }
            return first
        }
        if answer.status != .ok || answer.records.isEmpty {
            if !isFirstTXT { context.voidLookups.withLockedValue { $0 += 1 } }
            let herrno = answer.status == .nxdomain ? HOST_NOT_FOUND : NO_DATA
            return SPF_dns_rr_new_init(layer, domainPointer, rrType, Int32(answer.ttl), herrno)
        }
        guard let rr = SPF_dns_rr_new_init(layer, domainPointer, rrType, Int32(answer.ttl), NETDB_SUCCESS) else { return nil }
        var count: Int32 = 0
        for record in answer.records {
            switch record {
            case .a(let ip):
                guard SPF_dns_rr_buf_realloc(rr, count, MemoryLayout<in_addr>.size) == SPF_E_SUCCESS else { continue }
                inet_pton(AF_INET, ip, sluice_spf_rr_a(rr, count))
            case .aaaa(let ip):
                guard SPF_dns_rr_buf_realloc(rr, count, MemoryLayout<in6_addr>.size) == SPF_E_SUCCESS else { continue }
                inet_pton(AF_INET6, ip, sluice_spf_rr_aaaa(rr, count))
            case .mx(let mx):
                guard copyText(mx.exchange, rr, count) else { continue }
            case .txt(let strings):
                guard copyText(strings.joined(), rr, count) else { continue }
            case .ptr(let name):
                guard copyText(name, rr, count) else { continue }
            case .tlsa:
                continue  // SPF never asks for TLSA
            }
            count += 1
        }
        rr.pointee.num_rr = count
        return rr
    }
}

private func copyText(_ text: String, _ rr: UnsafeMutablePointer<SPF_dns_rr_t>, _ i: Int32) -> Bool {
    let bytes = Array(text.utf8) + [0]
    guard SPF_dns_rr_buf_realloc(rr, i, bytes.count) == SPF_E_SUCCESS, let target = sluice_spf_rr_text(rr, i) else { return false }
    bytes.withUnsafeBufferPointer { UnsafeMutableRawPointer(target).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    return true
}
