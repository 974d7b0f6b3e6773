// TLSReportMailer: sends a day's written reports to the policy domains that
// ask for them: each domain's `_smtp._tls` TXT record looked up through the
// resolver, its mailto addresses sent the report as mail (TLSReportMail),
// queued from postmaster@HOSTNAME by the current runtime's rules of the
// first listener that has rules, like a DSN. https report URIs are logged
// as not supported.

import Foundation
import Logging
import SluiceConfig
import SluiceCore
import SluicePipeline

struct TLSReportMailer: Sendable {
    let resolver: any DNSResolver
    let localMail: LocalMail
    let clock: any SluiceClock
    let logger: Logger

    /// Queues the report of each domain in `files` (domain → report file) that publishes mailto addresses.
    func mail(day: String, files: [String: String], config: SluiceConfiguration) async {
        guard let listener = config.listeners.first(where: { $0.rules != nil })?.name ?? config.listeners.first?.name else { return }
        for (domain, path) in files.sorted(by: { $0.key < $1.key }) {
            guard let answer = try? await resolver.lookup("_smtp._tls.\(domain)", .txt), let rua = TLSRPTRecord.rua(answer.texts) else {
                continue  // no record (or none to be had now): the report stays on disk only
            }
            let to = TLSRPTRecord.mailboxes(rua)
            if to.count < rua.count {
                logger.event(.tlsPolicy, level: .info, "TLS report URIs other than mailto are not used", [.domain: domain, .reason: rua.joined(separator: ", ")])
            }
            guard !to.isEmpty, let json = FileManager.default.contents(atPath: path),
                let report = try? JSONDecoder().decode(TLSReport.self, from: json)
            else { continue }
            let id = QueueID.generate().rawValue
            let bytes = TLSReportMail.build(report: report, json: json, domain: domain, submitter: config.hostname, to: to, date: clock.now(), messageID: id)
            do {
                let queued = try await localMail.submit(
                    LocalMessage(
                        sender: MailAddress(localPart: "postmaster", domain: config.hostname), recipients: to, bytes: bytes, listener: listener,
                        principal: "this host (TLS report)", fromDomain: config.hostname))
                logger.event(.tlsPolicy, level: .info, "TLS report queued", [.domain: domain, .queueID: "\(queued)", .recipients: to.map(\.description).joined(separator: ",")])
            } catch {
                logger.event(.tlsPolicy, level: .warning, "TLS report not queued", [.domain: domain, .reason: "\(error)"])
            }
        }
    }
}
