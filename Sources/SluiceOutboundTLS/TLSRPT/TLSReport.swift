// TLSReport: the aggregate report of RFC 8460 §4 for one policy domain and
// one UTC day, built from that day's recorded results (pure): the
// reporting organisation and contact, the date range, a report id, and per
// policy (type, text, MX hosts) the successful and failed session counts
// with the failures grouped by result type, MX host and address.

import Foundation

struct TLSReport: Codable, Equatable {
    struct DateRange: Codable, Equatable {
        var start: String
        var end: String
        enum CodingKeys: String, CodingKey {
            case start = "start-datetime"
            case end = "end-datetime"
        }
    }

    struct Policy: Codable, Equatable {
        var type: String
        var string: [String]
        var domain: String
        var mxHost: [String]
        enum CodingKeys: String, CodingKey {
            case type = "policy-type"
            case string = "policy-string"
            case domain = "policy-domain"
            case mxHost = "mx-host"
        }
    }

    struct Summary: Codable, Equatable {
        var successful: Int
        var failed: Int
        enum CodingKeys: String, CodingKey {
            case successful = "total-successful-session-count"
            case failed = "total-failure-session-count"
        }
    }

    struct FailureDetail: Codable, Equatable {
        var resultType: String
        var receivingMXHostname: String
        var receivingIP: String?
        var failedSessionCount: Int
        var additionalInformation: String?
        enum CodingKeys: String, CodingKey {
            case resultType = "result-type"
            case receivingMXHostname = "receiving-mx-hostname"
            case receivingIP = "receiving-ip"
            case failedSessionCount = "failed-session-count"
            case additionalInformation = "additional-information"
        }
    }

    struct PolicyReport: Codable, Equatable {
        var policy: Policy
        var summary: Summary
        var failureDetails: [FailureDetail]
        enum CodingKeys: String, CodingKey {
            case policy, summary
            case failureDetails = "failure-details"
        }
    }

    var organizationName: String
    var dateRange: DateRange
    var contactInfo: String
    var reportID: String
    var policies: [PolicyReport]

    enum CodingKeys: String, CodingKey {
        case organizationName = "organization-name"
        case dateRange = "date-range"
        case contactInfo = "contact-info"
        case reportID = "report-id"
        case policies
    }

    /// One report per policy domain of the day's records, by domain.
    static func build(day: String, records: [TLSResultRecord], organization: String, contact: String) -> [String: TLSReport] {
        var out: [String: TLSReport] = [:]
        for (domain, mine) in Dictionary(grouping: records, by: \.domain) {
            let byPolicy = Dictionary(grouping: mine) { "\($0.policyType)\n\($0.policyString.joined(separator: "\n"))" }
            let policies = byPolicy.keys.sorted().map { key -> PolicyReport in
                let rs = byPolicy[key]!
                let failures = rs.filter { $0.result != nil }
                let grouped = Dictionary(grouping: failures) { "\($0.result!) \($0.mxHost) \($0.receivingIP ?? "")" }
                let details = grouped.keys.sorted().map { k -> FailureDetail in
                    let g = grouped[k]!
                    return FailureDetail(
                        resultType: g[0].result!, receivingMXHostname: g[0].mxHost, receivingIP: g[0].receivingIP, failedSessionCount: g.count,
                        additionalInformation: g[0].detail)
                }
                return PolicyReport(
                    policy: Policy(type: rs[0].policyType, string: rs[0].policyString, domain: domain, mxHost: Array(Set(rs.map(\.mxHost))).sorted()),
                    summary: Summary(successful: rs.count - failures.count, failed: failures.count), failureDetails: details)
            }
            out[domain] = TLSReport(
                organizationName: organization, dateRange: DateRange(start: "\(day)T00:00:00Z", end: "\(day)T23:59:59Z"), contactInfo: contact,
                reportID: "\(day)_\(domain)@\(organization)", policies: policies)
        }
        return out
    }

    func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }
}
