// DailyReportService: a few minutes after each UTC midnight (on the
// injected clock), the day that ended gets its TLS-RPT reports written
// (TLSReports) and mailed to the domains that ask (TLSReportMailer), until
// shutdown.

import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import SluiceConfig
import SluiceCore

struct DailyReportService: Service {
    let config: SluiceConfiguration
    let clock: any SluiceClock
    let io: NIOThreadPool
    let mailer: TLSReportMailer
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await self.loop() }
        // gracefulShutdown() throws only when the task is cancelled, which is the end this waits for.
        try? await gracefulShutdown()
    }

    private func loop() async {
        while !Task.isCancelled {
            let now = clock.now()
            let midnight = Calendar.utc.startOfDay(for: now).addingTimeInterval(86400)
            await clock.sleep(until: midnight.addingTimeInterval(300))
            guard !Task.isCancelled else { return }
            let day = TLSResultRecord.day(midnight.addingTimeInterval(-1))
            let config = self.config
            do {
                let written = try await io.runIfActive { try TLSReports.write(day: day, config: config) }
                if !written.isEmpty {
                    logger.event(.tlsPolicy, level: .info, "TLS-RPT reports written", [.reason: "\(day): \(written.keys.sorted().joined(separator: ", "))"])
                }
                await mailer.mail(day: day, files: written, config: config)
            } catch {
                logger.event(.tlsPolicy, level: .warning, "TLS-RPT reports not written", [.reason: "\(day): \(error)"])
            }
        }
    }
}

extension Calendar {
    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()
}
