// DNSListCheck: when a connection opens, the client's address is asked of
// every configured DNS list, all at once, through the resolver (libunbound:
// answers are cached for their TTL, so a client seen again costs no round
// trip). The answers become a typed fact of the session (DNSListResults) that
// the rules read. A list that cannot answer (SERVFAIL, timeout, a malformed
// answer) counts as "not listed", and is logged: a broken list never refuses
// mail. Lists are asked only on listeners whose rules test them.

import Logging
import SluiceCore
import SluicePipeline

struct DNSListCheck: SessionCheck {
    let runtime: RuntimeHolder
    let resolver: any DNSResolver
    let logger: Logger

    func checkConnection(_ client: ClientInfo, facts: inout MessageVerdicts) async throws {
        let current = runtime.current
        guard let address = client.address, current.ruleSet(forListener: client.listener)?.reads.contains(DNSListResults.name) ?? false
        else { return }
        let lists = Array(current.config.dnsLists.values)
        guard !lists.isEmpty else { return }
        let resolver = self.resolver
        var results = DNSListResults()
        await withTaskGroup(of: (String, Result<DNSListHit?, DNSError>).self) { group in
            for list in lists {
                group.addTask { (list.name, await Self.ask(list, about: address, resolver)) }
            }
            for await (name, answer) in group {
                switch answer {
                case .success(let hit?): results.hits[name] = hit
                case .success(nil): break
                case .failure(let error):
                    results.unavailable.append(name)
                    logger.event(
                        .error, level: .warning, "DNS list unavailable; the client counts as not listed",
                        [.detector: name, .client: "\(address)", .error: error.message])
                }
            }
        }
        if !results.hits.isEmpty {
            let reasons = results.hits.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.code)" + ($0.value.text.map { " (\($0))" } ?? "") }
            logger.event(.verify, level: .notice, "client on a DNS list", [.client: "\(address)", .reason: reasons.joined(separator: "; ")])
        }
        facts[DNSListResults.self] = results
    }

    /// The list's answer about `address`: a hit (with its TXT reason), nil when not listed, or why it cannot say.
    static func ask(_ list: DNSList, about address: IPAddress, _ resolver: any DNSResolver) async -> Result<DNSListHit?, DNSError> {
        let name = DNSListQuery.name(for: address, zone: list.zone)
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
