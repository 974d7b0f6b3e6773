// The separators and digits people type (issue 34): every space, dash and
// full-width digit TypedCharacters lists is found where its ASCII form is,
// at offsets into the text as decoded; a negative corpus of prose, dates,
// phone numbers, page ranges and invoice ids written with those characters
// finds nothing the same text in ASCII would not.

import XCTest

@testable import SluiceDLP

final class TypedSeparatorTests: XCTestCase {
    static let spaces: [(String, Character)] = [
        ("U+00A0 no-break space", "\u{00A0}"), ("U+2007 figure space", "\u{2007}"), ("U+2009 thin space", "\u{2009}"),
        ("U+202F narrow no-break space", "\u{202F}"), ("U+3000 ideographic space", "\u{3000}"),
    ]
    static let dashes: [(String, Character)] = [
        ("U+2010 hyphen", "\u{2010}"), ("U+2011 non-breaking hyphen", "\u{2011}"), ("U+2012 figure dash", "\u{2012}"),
        ("U+2013 en dash", "\u{2013}"), ("U+2014 em dash", "\u{2014}"), ("U+2015 horizontal bar", "\u{2015}"),
    ]

    func engine() throws -> DLPEngine {
        try DLPEngine(detectors: Detector.predefined.keys.sorted().map { Detector.predefined[$0]! })
    }

    func found(_ text: String) throws -> [Finding] {
        try engine().findings(in: Array(text.utf8), part: "body")
    }

    static func fullWidth(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.map { c in
            (48...57).contains(c.value) ? Unicode.Scalar(0xFF10 + c.value - 48)! : c
        }))
    }

    func testEveryListedSeparatorIsFoundWhereItsASCIIFormIs() throws {
        for (name, sep) in Self.spaces + Self.dashes {
            let card = ["4111", "1111", "1111", "1111"].joined(separator: String(sep))
            let ssn = ["536", "22", "1234"].joined(separator: String(sep))
            let prefix = "Card: "
            let text = "\(prefix)\(card) and SSN \(ssn)."
            let f = try found(text)
            let card1 = try XCTUnwrap(f.first { $0.detector == "credit_card" }, "\(name): card not found in \(f)")
            // The offset and length are those of the text as given (bytes), not of the folded text.
            XCTAssertEqual(card1.offset, prefix.utf8.count, name)
            XCTAssertEqual(card1.length, card.utf8.count, name)
            XCTAssertTrue(card1.snippet.hasPrefix("4111") && card1.snippet.hasSuffix("1111") && card1.snippet.contains("****"), card1.snippet)
            XCTAssertFalse(card1.snippet.contains("4111\(sep)1111\(sep)1111"), "the value is shown redacted")
            XCTAssertTrue(f.contains { $0.detector == "us_ssn" }, "\(name): SSN not found in \(f)")
        }
    }

    func testFullWidthDigitsAndANoBreakSpaceBeforeTheValue() throws {
        let f = try found("カード番号 " + Self.fullWidth("4111 1111 1111 1111") + " です")
        XCTAssertEqual(f.map(\.detector), ["credit_card"])
        XCTAssertEqual(f.first?.snippet, "4111 **** **** 1111")
        XCTAssertEqual(f.first?.length, 16 * 3 + 3)
        // Full-width digits with ideographic spaces, as a Japanese IME writes them.
        let ime = Self.fullWidth("4111") + "\u{3000}" + Self.fullWidth("1111") + "\u{3000}" + Self.fullWidth("1111") + "\u{3000}" + Self.fullWidth("1111")
        XCTAssertEqual(try found(ime).map(\.detector), ["credit_card"])
        // A no-break space is a boundary like a space (before, the non-ASCII byte before the digits hid the value).
        XCTAssertEqual(try found("Card:\u{00A0}4111111111111111").map(\.detector), ["credit_card"])
        XCTAssertEqual(try found("IBAN\u{00A0}DE89\u{00A0}3704\u{00A0}0044\u{00A0}0532\u{00A0}0130\u{00A0}00").map(\.detector), ["iban"])
        XCTAssertEqual(try found("tel \u{2007}(415)\u{00A0}555\u{2011}2671").map(\.detector), ["phone_number"])
    }

    func testLuhnAndTheOtherValidatorsStillDecide() throws {
        XCTAssertEqual(try found("Card 4111\u{00A0}1111\u{00A0}1111\u{00A0}1112").filter { $0.detector == "credit_card" }, [])
        XCTAssertEqual(try found(Self.fullWidth("4111 1111 1111 1112")).filter { $0.detector == "credit_card" }, [])
        XCTAssertEqual(try found("SSN 000\u{2013}12\u{2013}3456").filter { $0.detector == "us_ssn" }, [])
    }

    /// What people write with these characters that is not sensitive; each line in the typed form and in ASCII.
    static let negativeCorpus = [
        "The meeting moved to 2024\u{2011}03\u{2011}15 \u{2013} see the minutes, pages 12\u{2013}18.",
        "Revenue grew 4\u{00A0}% between 1999\u{2013}2004 and 2010\u{2014}2016.",
        "Invoice INV\u{2011}2024\u{2011}000123\u{2011}7 is due on 30\u{00A0}June; PO\u{00A0}4500012345.",
        "Order 1234\u{00A0}5678\u{00A0}9012 shipped; tracking 1Z\u{00A0}999\u{00A0}AA1\u{00A0}01\u{00A0}2345\u{00A0}6784.",
        "Price: 1\u{202F}234\u{202F}567,89\u{00A0}€ (VAT\u{00A0}19\u{00A0}%), ref\u{2009}2023\u{2009}11\u{2009}30.",
        "Room 12\u{2013}14, floor\u{00A0}3, build 2024.11.30\u{2010}rc1, version 10\u{2012}2\u{2012}3.",
        "Zeiten: 09:00\u{2013}17:30, Tel.-Durchwahl \u{2010}12, PLZ\u{00A0}10115, Kunden\u{2011}Nr. 000\u{2011}4711.",
        "ISBN 978\u{2011}3\u{2011}16\u{2011}148410\u{2011}0 and ISSN 0317\u{2011}8471; DOI 10.1000\u{2010}182.",
        TypedSeparatorTests.fullWidth("2024年12月07日 会議室 301 号室、内線 4512、注文番号 2024 1207 0001"),
        "Ticket #48213 \u{2014} 3\u{00A0}000\u{00A0}000 rows, 12\u{2009}345\u{2009}678 bytes, 99.5\u{00A0}% done.",
    ]

    static func ascii(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c.value {
            case 0xA0, 0x2007, 0x2009, 0x202F, 0x3000: out += " "
            case 0x2010...0x2015: out += "-"
            case 0xFF10...0xFF19: out.unicodeScalars.append(Unicode.Scalar(48 + c.value - 0xFF10)!)
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    func testANegativeCorpusFindsNothingNew() throws {
        let engine = try engine()
        for line in Self.negativeCorpus {
            let typed = try engine.findings(in: Array(line.utf8), part: "body").map(\.detector)
            let plain = try engine.findings(in: Array(Self.ascii(line).utf8), part: "body").map(\.detector)
            XCTAssertEqual(typed, plain, "typed characters changed the findings of: \(line)")
            XCTAssertEqual(typed.filter { ["credit_card", "us_ssn", "iban"].contains($0) }, [], line)
        }
    }

    func testHTMLEntitiesForDashesAndSpaces() throws {
        var html = HTMLText()
        var out: [UInt8] = []
        html.feed(Array("<p>4111&ndash;1111&#8211;1111&#x2011;1111 &thinsp;</p>".utf8), into: &out)
        XCTAssertEqual(try engine().findings(in: out, part: "body").map(\.detector), ["credit_card"])
    }

    func testTextWithoutTypedCharactersIsNotCopied() {
        XCTAssertNil(TypedCharacters.folded(Array("plain ASCII 4111 1111 1111 1111 and \u{2019}quotes\u{201D} é".utf8)))
        let folded = TypedCharacters.folded(Array("a\u{00A0}b\u{2013}\u{FF15}".utf8))
        XCTAssertEqual(folded.map { String(decoding: $0.bytes, as: UTF8.self) }, "a b-5")
        XCTAssertEqual(folded?.origin, [0, 1, 3, 4, 7, 10])
    }
}
