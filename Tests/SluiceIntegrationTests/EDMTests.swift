// Exact Data Match end to end (issue 34): 100,000 generated customer records
// (account, e-mail, phone) imported by `sluice dlp edm import`; a message
// quoting one customer's account number and e-mail is refused by a rule with
// `min_fields: 2`; the account number alone matches `min_fields: 1` and not
// 2; a random 16-digit number matches nothing; `dlp scan` and `rules test`
// name the columns, never the values; the index file holds none of the
// values in clear; a CSV row that does not parse imports nothing and names
// its line.

import Foundation
import XCTest

final class EDMTests: XCTestCase {
    struct Customer {
        var account: String
        var email: String
        var phone: String
    }

    /// Deterministic records: 10-digit accounts, distinct addresses, US phone numbers as people write them.
    static func customers(_ n: Int) -> [Customer] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return (0..<n).map { i in
            let account = String(4_000_000_000 + next() % 5_000_000_000)
            let p = next()
            let phone = "(\(200 + p % 800)) \(200 + (p >> 10) % 800)-\(String(format: "%04d", (p >> 20) % 10_000))"
            return Customer(account: account, email: "customer\(i).\(next() % 1000)@example-bank.test", phone: phone)
        }
    }

    func daemon(csv: String) throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            dlp:
              edm:
                customers: { file: data/customers.csv, columns: [account, email, phone], key_file: etc/edm.key }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/data", withIntermediateDirectories: true)
        try csv.write(toFile: d.root + "/data/customers.csv", atomically: true, encoding: .utf8)
        let (status, _, err) = try d.cli(["dlp", "edm", "keygen", "--out", d.root + "/etc/edm.key"])
        XCTAssertEqual(status, 0, err)
        try d.writeRules("""
            rules:
              - name: customer-record
                when: [ { dlp: { edm: customers, min_fields: 2 } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "customer data" } } ]
              - name: customer-value
                when: [ { dlp: { edm: customers } } ]
                then: [ { add_header: { name: X-EDM, value: one-field } }, { store: var/outbox } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)
        return d
    }

    func testOneCustomersValuesTogetherAreMatchedAndNothingIsStoredInClear() throws {
        let records = Self.customers(100_000)
        var csv = "id,name,account,email,phone\n"
        for (i, c) in records.enumerated() { csv += "\(i),\"Customer \(i), Jr.\",\(c.account),\(c.email),\(c.phone)\n" }
        let d = try daemon(csv: csv)
        let (status, out, err) = try d.cli(["dlp", "edm", "import", "customers"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("imported 100000 records, 300000 values"), out)

        // No value in clear in the index (a sample across the file, each kind).
        let index = try Data(contentsOf: URL(fileURLWithPath: d.root + "/var/edm/customers.idx"))
        XCTAssertLessThan(index.count, 100_000 * 3 * 16 + 4096)
        for c in records.prefix(200) + records.suffix(200) {
            for value in [c.account, c.email, c.phone, String(c.phone.filter(\.isNumber))] {
                XCTAssertNil(index.range(of: Data(value.utf8)), "a value in clear in the index")
            }
        }

        let customer = records[73_219]
        let together = "Subject: account\r\n\r\nHi, the customer with account \(customer.account) wrote from \(customer.email) about a refund.\r\n"
        let alone = "Subject: account\r\n\r\nPlease check account no. \(customer.account.prefix(4)) \(customer.account.dropFirst(4)) today.\r\n"
        let random = "Subject: order\r\n\r\nYour order 8293 1102 4455 9071 ships tomorrow.\r\n"
        // Another customer's e-mail with this one's account: two records with one field each, not one with two.
        let mixed = "Subject: x\r\n\r\naccount \(customer.account), reply to \(records[5].email)\r\n"

        // `dlp scan` and `rules test` name the columns and never the values.
        for (name, text) in [("together", together), ("alone", alone)] {
            try text.write(toFile: d.root + "/\(name).eml", atomically: true, encoding: .utf8)
        }
        var (s, scan, e) = try d.cli(["dlp", "scan", d.root + "/together.eml"])
        XCTAssertEqual(s, 0, e)
        XCTAssertTrue(scan.contains("customers.account") && scan.contains("customers.email"), scan)
        XCTAssertTrue(scan.contains("edm customers: a record matched in 2 field(s) (account, email)"), scan)
        XCTAssertFalse(scan.contains(customer.account) || scan.contains(customer.email), scan)
        (s, scan, e) = try d.cli(["rules", "test", d.root + "/together.eml", "--to", "ops@example.test"])
        XCTAssertEqual(s, 0, e)
        XCTAssertTrue(scan.contains("customer-record"), scan)
        XCTAssertTrue(scan.contains("edm:customers=2 fields") || scan.contains("customers.account"), scan)
        XCTAssertFalse(scan.contains(customer.account) || scan.contains(customer.email), scan)
        (s, scan, e) = try d.cli(["dlp", "scan", "--json", d.root + "/alone.eml"])
        XCTAssertEqual(s, 0, e)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(scan.utf8)) as? [String: Any])
        let file = try XCTUnwrap((json["files"] as? [[String: Any]])?.first)
        let edm = try XCTUnwrap((file["edm"] as? [String: Any])?["customers"] as? [String: Any])
        XCTAssertEqual(edm["fields"] as? Int, 1)
        XCTAssertEqual(edm["columns"] as? [String], ["account"])

        try d.start()
        var r = try TestSMTPClient.sendMessage(port: d.port(), message: together)
        XCTAssertEqual(r.code, 550, "account and e-mail of one customer: \(r.text)")
        for (what, message, header) in [("the account alone", alone, true), ("a random number", random, false), ("two customers' values", mixed, true)] {
            r = try TestSMTPClient.sendMessage(port: d.port(), message: message)
            XCTAssertEqual(r.code, 250, "\(what): \(r.text)")
            let delivered = d.waitForOutbox(count: 1).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
            XCTAssertEqual(delivered.contains("X-EDM: one-field"), header, "\(what): \(delivered.prefix(300))")
            for f in d.outboxFiles() { try? FileManager.default.removeItem(atPath: d.outbox + "/" + f) }
        }
        XCTAssertFalse(d.log().contains(customer.account) || d.log().contains(customer.email), "a value in the log")
    }

    func testARowThatDoesNotParseImportsNothingAndNamesItsLine() throws {
        let d = try daemon(csv: "id,account,email,phone\n1,4000000001,a@example.test,(415) 555-2671\n2,\"4000000002,b@example.test,555\n")
        var (status, _, err) = try d.cli(["dlp", "edm", "import", "customers"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(err.contains("customers.csv:3: a quoted field does not close; nothing imported"), err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: d.root + "/var/edm/customers.idx"))
        try "id,account,email,phone\n1,4000000001,a@example.test\n".write(toFile: d.root + "/data/customers.csv", atomically: true, encoding: .utf8)
        (status, _, err) = try d.cli(["dlp", "edm", "import", "customers"])
        XCTAssertTrue(err.contains("customers.csv:2: 3 fields where the header has 4"), err)
        // A configured source never imported stops the daemon's start, naming it (a rule on it would match nothing).
        let (checkStatus, _, checkErr) = try d.cli(["dlp", "scan", d.configPath])
        XCTAssertNotEqual(checkStatus, 0)
        XCTAssertTrue(checkErr.contains("dlp.edm.customers") && checkErr.contains("sluice dlp edm import"), checkErr)
    }
}
