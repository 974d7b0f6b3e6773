// DNSListCheck: when a connection opens, the client's address is asked of
// every address list, all at once, through the resolver (libunbound: answers
// are cached for their TTL, so a client seen again costs no round trip); at
// MAIL FROM the domain lists are asked about the sender's domain and the HELO
// name. The answers become a typed fact of the session (DNSListResults) that
// the rules and the traffic policy read. A list that cannot answer
// (SERVFAIL, timeout, a malformed answer) counts as "not listed", and is
// logged: a broken list never refuses mail. Lists are asked only on
// listeners whose rules or traffic policy test them.

import Logging
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceRules

struct DNSListCheck: SessionCheck {
    let runtime: RuntimeHolder
    let resolver: any DNSResolver
    let logger: Logger

    /// The lists the client's listener tests, in its rules or its traffic policy.
    func lists(for client: ClientInfo) -> [DNSList] {
        let current = runtime.current
        let config = current.config
        guard !config.dnsLists.isEmpty else { return [] }
        var names = Set<String>()
        for case let c as DNSListCondition in current.ruleSet(forListener: client.listener)?.allConditions ?? [] { names.insert(c.list) }
        if let policy = config.listeners.first(where: { $0.name == client.listener })?.policy.flatMap({ config.policies[$0] }) {
            for statement in policy.statements {
                for case .component(let c as DNSListPolicyCondition) in statement.conditions { names.insert(c.list.name) }
            }
        }
        return names.compactMap { config.dnsLists[$0] }
    }

    func checkConnection(_ client: ClientInfo, facts: inout MessageVerdicts) async throws {
        let lists = lists(for: client).filter(\.listsAddresses)
        guard let address = client.address, !lists.isEmpty else { return }
        let name = { (list: DNSList) in DNSListQuery.name(for: address, zone: list.zone) }
        var results = facts[DNSListResults.self] ?? DNSListResults()
        await ask(lists.map { ($0, name($0), "client \(address)") }, into: &results, client: client)
        facts[DNSListResults.self] = results
    }

    func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        let lists = lists(for: client).filter { !$0.listsAddresses }
        guard !lists.isEmpty else { return }
        var results = facts[DNSListResults.self] ?? DNSListResults()
        // Each transaction asks again about its own sender.
        for list in lists { results.hits[list.name] = nil }
        results.unavailable.removeAll { name in lists.contains { $0.name == name } }
        var queries: [(DNSList, String, String)] = []
        for list in lists {
            if list.query.contains(.sender), let domain = sender.flatMap({ DNSListQuery.domain($0.normalizedDomain) }) {
                queries.append((list, "\(domain).\(list.zone)", "sender domain \(domain)"))
            }
            if list.query.contains(.helo), let domain = client.helo.flatMap(DNSListQuery.domain) {
                queries.append((list, "\(domain).\(list.zone)", "HELO \(domain)"))
            }
        }
        await ask(queries, into: &results, client: client)
        facts[DNSListResults.self] = results
    }

    /// Asks every (list, query name, what it names) at once; the first hit of a list is its answer.
    func ask(_ queries: [(DNSList, String, String)], into results: inout DNSListResults, client: ClientInfo) async {
        guard !queries.isEmpty else { return }
        let resolver = self.resolver
        var found: [String: DNSListHit] = [:]
        await withTaskGroup(of: (String, String, Result<DNSListHit?, DNSError>).self) { group in
            for (list, name, subject) in queries {
                group.addTask { (list.name, subject, await Self.ask(list, name: name, resolver)) }
            }
            for await (list, subject, answer) in group {
                switch answer {
                case .success(var hit?):
                    hit.listed = subject
                    if found[list] == nil { found[list] = hit }
                case .success(nil): break
                case .failure(let error):
                    if !results.unavailable.contains(list) { results.unavailable.append(list) }
                    logger.event(
                        .error, level: .warning, "DNS list unavailable; counted as not listed",
                        [.detector: list, .client: client.address?.description ?? "-", .reason: subject, .error: error.message])
                }
            }
        }
        guard !found.isEmpty else { return }
        results.hits.merge(found) { _, new in new }
        let reasons = found.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.code) \($0.value.listed ?? "")" + ($0.value.text.map { " (\($0))" } ?? "") }
        logger.event(.verify, level: .notice, "on a DNS list", [.client: client.address?.description ?? "-", .reason: reasons.joined(separator: "; ")])
    }

    /// The list's answer for the query name: a hit (with its TXT reason), nil when not listed, or why it cannot say.
    static func ask(_ list: DNSList, name: String, _ resolver: any DNSResolver) async -> Result<DNSListHit?, DNSError> {
        let answer: DNSAnswer
        do { answer = try await resolver.lookup(name, .a) } catch { return .failure(error) }
        guard answer.status == .ok else { return .success(nil) }
        let codes = answer.addresses.compactMap(IPAddress.init)
        guard let code = codes.first(where: list.counts) else {
            if let error = codes.first(where: { $0.isIPv4 && $0.bytes[0...2] == [127, 255, 255] }) {
                return .failure(DNSError(temporary: false, "the list answered its error code \(error) (a refused or misconfigured query)"))
            }
            return .success(nil)
        }
        // The reason, when the list publishes one; a missing TXT does not undo the listing.
        let text = (try? await resolver.lookup(name, .txt))?.texts.first
        return .success(DNSListHit(code: code.description, text: text))
    }
}
