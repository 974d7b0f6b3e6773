// UnboundResolver: the DNS resolver component (R-MAUTH-3) on libunbound, the
// resolver library of NLnet Labs' Unbound. Queries are asynchronous: one
// thread waits on libunbound's descriptor and runs the callbacks, which
// resume the waiting tasks. libunbound caches answers for their TTLs. The
// nameserver is either the system's (/etc/resolv.conf) or an address and
// port from the config (a local server with fixture records in tests).

import CUnbound
import Foundation
import NIOConcurrencyHelpers
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

public final class UnboundResolver: DNSResolver, @unchecked Sendable {
    public enum Nameserver: Sendable, Equatable {
        /// The nameservers of /etc/resolv.conf.
        case system
        /// The nameservers of another resolv.conf-style file.
        case resolvConf(String)
        /// One forwarder, e.g. 127.0.0.1 port 5353.
        case address(String, port: Int)
    }

    /// Guarded by libunbound's own locks: resolve_async, fd and process are thread-safe.
    private let context: OpaquePointer
    private let timeout: Double
    private let running = NIOLockedValueBox(true)
    private let stopped = DispatchSemaphore(value: 0)

    /// `trustAnchor`: a file of DS or DNSKEY records (zone file format, e.g. /usr/share/dns/root.key) from which
    /// answers are validated (DNSSEC); without one every answer is insecure.
    public init(nameserver: Nameserver, timeout: Double = 10, trustAnchor: String? = nil) throws(DNSError) {
        // Every step that can fail runs before a stored property is set: a throwing initialiser of a class
        // whose properties are all set runs deinit, which would wait for a dispatch thread never started.
        let ctx = try Self.makeContext(nameserver, trustAnchor: trustAnchor)
        context = ctx
        self.timeout = timeout
        let thread = Thread { [context = UncheckedPointer(ctx), running, stopped] in
            Self.dispatchLoop(context.pointer, running: running)
            stopped.signal()
        }
        thread.name = "sluice-dns"
        thread.start()
    }

    /// A configured libunbound context, or the reason it cannot be made (the context is freed then).
    private static func makeContext(_ nameserver: Nameserver, trustAnchor: String?) throws(DNSError) -> OpaquePointer {
        guard let ctx = ub_ctx_create() else { throw DNSError(temporary: false, "cannot create a resolver context") }
        func check(_ code: Int32, _ what: String) throws(DNSError) {
            if code != 0 {
                ub_ctx_delete(ctx)
                throw DNSError(temporary: false, "\(what): \(String(cString: ub_strerror(code)))")
            }
        }
        // Threads, not a forked process; a forwarder on loopback is allowed (tests, local caches).
        try check(ub_ctx_async(ctx, 1), "resolver threads")
        try check(ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"), "resolver option")
        // libunbound answers the RFC 6761 name "test." itself (NXDOMAIN); let the nameserver answer it,
        // so that fixture zones under .test work like any other.
        try check(ub_ctx_set_option(ctx, "local-zone:", "test. transparent"), "resolver option")
        if let trustAnchor { try check(ub_ctx_add_ta_file(ctx, trustAnchor), "reading the trust anchor \(trustAnchor)") }
        switch nameserver {
        case .system:
            try check(ub_ctx_resolvconf(ctx, nil), "reading /etc/resolv.conf")
        case .resolvConf(let path):
            try check(ub_ctx_resolvconf(ctx, path), "reading \(path)")
        case .address(let host, let port):
            try check(ub_ctx_set_fwd(ctx, "\(host)@\(port)"), "nameserver \(host) port \(port)")
        }
        return ctx
    }

    deinit {
        running.withLockedValue { $0 = false }
        stopped.wait()
        ub_ctx_delete(context)
    }

    /// Waits for answers and runs their callbacks until the resolver is released.
    private static func dispatchLoop(_ ctx: OpaquePointer, running: NIOLockedValueBox<Bool>) {
        let fd = ub_fd(ctx)
        while running.withLockedValue({ $0 }) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 200) > 0 { ub_process(ctx) }
        }
    }

    public func lookup(_ name: String, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
        let result: Result<DNSAnswer, DNSError> = await withCheckedContinuation { continuation in
            let query = PendingQuery(name: name, type: type, continuation: continuation)
            let box = Unmanaged.passRetained(query)
            let code = ub_resolve_async(context, name, Int32(type.rawValue), 1, box.toOpaque(), unboundCallback, nil)
            if code != 0 {
                box.release()
                query.finish(.failure(DNSError(temporary: true, "\(name) \(type): \(String(cString: ub_strerror(code)))")))
                return
            }
            // libunbound retries on its own schedule; the caller waits at most `timeout`. A late answer is dropped.
            let seconds = timeout
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                query.finish(.failure(DNSError(temporary: true, "\(name) \(type): no answer within \(Int(seconds))s")))
            }
        }
        return try result.get()
    }
}

struct UncheckedPointer: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ p: OpaquePointer) { pointer = p }
}

/// One lookup in flight: resumed once, by the answer or by the timeout.
final class PendingQuery: Sendable {
    let name: String
    let type: DNSRecordType
    let continuation: CheckedContinuation<Result<DNSAnswer, DNSError>, Never>
    let once = OnceFlag()

    init(name: String, type: DNSRecordType, continuation: CheckedContinuation<Result<DNSAnswer, DNSError>, Never>) {
        self.name = name
        self.type = type
        self.continuation = continuation
    }

    func finish(_ result: Result<DNSAnswer, DNSError>) {
        if once.claim() { continuation.resume(returning: result) }
    }

    /// Turns libunbound's result into an answer: data, NXDOMAIN, NODATA, or an error by RCODE.
    func complete(error: Int32, result: UnsafeMutablePointer<ub_result>?) {
        defer { if let result { ub_resolve_free(result) } }
        guard error == 0, let r = result?.pointee else {
            finish(.failure(DNSError(temporary: true, "\(name) \(type): \(String(cString: ub_strerror(error)))")))
            return
        }
        if r.bogus != 0 {
            let why = r.why_bogus.map { String(cString: $0) } ?? "signatures do not validate"
            finish(.failure(DNSError(temporary: true, "\(name) \(type): DNSSEC bogus: \(why)", bogus: true)))
            return
        }
        let security: DNSSecurity = r.secure != 0 ? .secure : .insecure
        if r.havedata == 0 {
            switch r.rcode {
            case 0: finish(.success(DNSAnswer(status: .noData, records: [], ttl: Int(r.ttl), security: security)))
            case 3: finish(.success(DNSAnswer(status: .nxdomain, records: [], ttl: Int(r.ttl), security: security)))
            case 5: finish(.failure(DNSError(temporary: false, "\(name) \(type): query refused")))
            default: finish(.failure(DNSError(temporary: true, "\(name) \(type): server failure (rcode \(r.rcode))")))
            }
            return
        }
        var records: [DNSRecord] = []
        var i = 0
        while let item = r.data[i] {
            let bytes = [UInt8](UnsafeRawBufferPointer(start: item, count: Int(r.len[i])))
            do {
                records.append(try RecordData.decode(type, bytes))
            } catch {
                finish(.failure(DNSError(temporary: false, "\(name) \(type): \(error)")))
                return
            }
            i += 1
        }
        finish(.success(DNSAnswer(status: .ok, records: records, ttl: Int(r.ttl), security: security)))
    }
}

private let unboundCallback: ub_callback_type = { data, error, result in
    guard let data else { return }
    Unmanaged<PendingQuery>.fromOpaque(data).takeRetainedValue().complete(error: error, result: result)
}
