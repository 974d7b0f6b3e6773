// TypedCharacters: the spaces, dashes and digits people type that are not
// ASCII. Word processors put a no-break space between the groups of a card
// number, autocorrect turns "-" into an en dash, and East Asian input gives
// full-width digits; a detector written with [ -] and \d would miss all of
// them. The engine scans the text with these folded to their ASCII form
// (same meaning, one byte each), keeping where each folded byte came from,
// so offsets and lengths of findings still point into the text as decoded.
//
// Folded (docs/rules.md lists them):
//   spaces  U+00A0 no-break, U+2007 figure, U+2009 thin, U+202F narrow no-break, U+3000 ideographic  -> " "
//   dashes  U+2010 hyphen, U+2011 non-breaking hyphen, U+2012 figure dash, U+2013 en dash,
//           U+2014 em dash, U+2015 horizontal bar                                                     -> "-"
//   digits  U+FF10-U+FF19 full-width 0-9                                                              -> "0"-"9"

import Foundation

enum TypedCharacters {
    /// Text with the typed characters folded, and for each byte of it the offset it came from in the
    /// original (one more entry at the end: the original's length).
    struct Folded {
        var bytes: [UInt8]
        var origin: [Int]
    }

    /// The ASCII byte for the typed character at `i` and how many bytes it spans; nil when there is none there.
    @inline(__always)
    static func character(at i: Int, in p: UnsafeBufferPointer<UInt8>) -> (ascii: UInt8, length: Int)? {
        let b0 = p[i]
        switch b0 {
        case 0xC2:
            return i + 1 < p.count && p[i + 1] == 0xA0 ? (0x20, 2) : nil
        case 0xE2:
            guard i + 2 < p.count, p[i + 1] == 0x80 else { return nil }
            switch p[i + 2] {
            case 0x87, 0x89, 0xAF: return (0x20, 3)
            case 0x90...0x95: return (0x2D, 3)
            default: return nil
            }
        case 0xE3:
            return i + 2 < p.count && p[i + 1] == 0x80 && p[i + 2] == 0x80 ? (0x20, 3) : nil
        case 0xEF:
            guard i + 2 < p.count, p[i + 1] == 0xBC, (0x90...0x99).contains(p[i + 2]) else { return nil }
            return (0x30 + p[i + 2] - 0x90, 3)
        default:
            return nil
        }
    }

    /// The first typed character in `p`, found with memchr on each lead byte (ASCII text costs four
    /// memchr passes and nothing else).
    static func first(in p: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = p.baseAddress, !p.isEmpty else { return nil }
        var best: Int?
        for lead: UInt8 in [0xC2, 0xE2, 0xE3, 0xEF] {
            var from = 0
            let limit = best ?? p.count
            while from < limit, let hit = memchr(base + from, Int32(lead), limit - from) {
                let i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if character(at: i, in: p) != nil {
                    best = i
                    break
                }
                from = i + 1
            }
        }
        return best
    }

    /// nil when the text has none of the typed characters (the usual case: no copy is made).
    static func folded(_ text: [UInt8]) -> Folded? {
        text.withUnsafeBufferPointer { p -> Folded? in
            guard let start = first(in: p) else { return nil }
            var bytes = [UInt8]()
            var origin = [Int]()
            bytes.reserveCapacity(p.count)
            origin.reserveCapacity(p.count + 1)
            bytes.append(contentsOf: p[0..<start])
            origin.append(contentsOf: 0..<start)
            var i = start
            while i < p.count {
                if p[i] >= 0xC2, let (ascii, length) = character(at: i, in: p) {
                    bytes.append(ascii)
                    origin.append(i)
                    i += length
                } else {
                    bytes.append(p[i])
                    origin.append(i)
                    i += 1
                }
            }
            origin.append(p.count)
            return Folded(bytes: bytes, origin: origin)
        }
    }
}
