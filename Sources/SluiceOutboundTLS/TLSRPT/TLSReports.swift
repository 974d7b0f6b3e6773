// TLSReports: makes a day's TLS-RPT reports from its recorded results and
// writes each as data_dir/tlsrpt/reports/DATE/DOMAIN.json (the daemon after
// each UTC day, `sluice tlsrpt send` on demand); returns what it wrote.

import Foundation
import SluiceConfig

public enum TLSReports {
    /// The report files written for `day` ("2026-12-07"), by policy domain.
    public static func write(day: String, config: SluiceConfiguration) throws -> [String: String] {
        let root = (config.dataDir as NSString).appendingPathComponent("tlsrpt")
        let records = TLSResultLog.read(directory: root + "/results", day: day)
        let reports = TLSReport.build(day: day, records: records, organization: config.hostname, contact: "postmaster@\(config.hostname)")
        guard !reports.isEmpty else { return [:] }
        let dir = "\(root)/reports/\(day)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written: [String: String] = [:]
        for (domain, report) in reports {
            let path = "\(dir)/\(domain).json"
            try report.json().write(to: URL(fileURLWithPath: path), options: .atomic)
            written[domain] = path
        }
        return written
    }

    /// Whether `day` is a UTC date ("2026-12-07").
    public static func isDay(_ day: String) -> Bool {
        let parts = day.split(separator: "-")
        return parts.count == 3 && parts[0].count == 4 && parts[1].count == 2 && parts[2].count == 2 && parts.allSatisfy { $0.allSatisfy(\.isNumber) }
    }
}
