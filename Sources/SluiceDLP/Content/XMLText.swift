// XMLText: the text of an Office Open XML or OpenDocument part, streamed.
// Fed the inflated XML in pieces, it drops markup, decodes entities and
// CDATA, and joins the runs of one paragraph or cell into one line: Word
// writes an edited number as `<w:t>4111 1111 </w:t><w:t>1111 1111</w:t>`,
// and detectors must see "4111 1111 1111 1111". Paragraphs, cells, rows and
// shared strings end a line; tabs and `<text:s/>` are spaces. Nothing but the
// current paragraph is kept: memory is one piece, whatever the document size.
// One byte-level state machine with no allocation per byte.

import Foundation

struct XMLText {
    private enum State { case text, tagStart, tag, quotedDouble, quotedSingle, comment, cdata, declaration, entity }

    private var state = State.text
    /// The tag's local name (the prefix dropped) and whether it closes (`</x>`) or self-closes (`<x/>`).
    private var name: [UInt8] = []
    private var naming = false
    private var closing = false
    private var lastTagByte: UInt8 = 0
    /// The last bytes of a comment or CDATA section, to find its end ("-->", "]]>").
    private var recent: UInt32 = 0
    /// What follows "<!" so far: a comment, CDATA or a DOCTYPE.
    private var declared = 0
    private var declaration: [UInt8] = []
    private var entity: [UInt8] = []
    /// Character data since the last tag; whitespace-only data between tags is layout, not text.
    private var pending: [UInt8] = []
    private var pendingHasText = false
    /// Whether the innermost open element holds text whose whitespace counts (`<w:t xml:space="preserve"> </w:t>`).
    private var inTextElement = false
    private(set) var output: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            var i = 0
            while i < buf.count {
                // Attribute values are most of a spreadsheet's bytes: skipped with memchr, not byte by byte.
                if state == .quotedDouble || state == .quotedSingle {
                    let quote: Int32 = state == .quotedDouble ? 34 : 39
                    guard let p = memchr(base + i, quote, buf.count - i) else { return }
                    i = base.distance(to: p.assumingMemoryBound(to: UInt8.self)) + 1
                    state = .tag
                    continue
                }
                step(buf[i])
                i += 1
            }
        }
    }

    /// Takes the text produced so far (whole lines only unless `all`).
    mutating func take(all: Bool = false) -> [UInt8] {
        if all {
            flushPending()
            defer { output.removeAll(keepingCapacity: true) }
            return output
        }
        guard let nl = output.lastIndex(of: 10) else { return [] }
        let lines = Array(output[...nl])
        output.removeSubrange(...nl)
        return lines
    }

    private mutating func flushPending() {
        guard !pending.isEmpty else { return }
        if pendingHasText || inTextElement { output += pending }
        pending.removeAll(keepingCapacity: true)
        pendingHasText = false
    }

    @inline(__always)
    private mutating func step(_ b: UInt8) {
        switch state {
        case .text:
            if b == 60 {  // <
                flushPending()
                state = .tagStart
                name.removeAll(keepingCapacity: true)
                closing = false
                naming = true
                lastTagByte = 0
            } else if b == 38 {  // &
                state = .entity
                entity.removeAll(keepingCapacity: true)
            } else if b == 13 || b == 10 || b == 9 || b == 32 {
                pending.append(32)
            } else {
                pending.append(b)
                pendingHasText = true
            }
        case .entity:
            if b == 59 {  // ;
                pending += Self.decode(entity)
                pendingHasText = true
                state = .text
            } else if entity.count > 10 || b == 60 || b == 38 {
                pending.append(38)
                pending += entity
                pendingHasText = true
                state = .text
                step(b)
            } else {
                entity.append(b)
            }
        case .tagStart:
            if b == 47 {  // </
                closing = true
                state = .tag
            } else if b == 33 {  // <!
                state = .declaration
                declared = 0
                declaration.removeAll(keepingCapacity: true)
            } else if b == 63 {  // <? a processing instruction, read as a tag
                naming = false
                state = .tag
            } else {
                state = .tag
                step(b)
            }
        case .tag:
            if b == 62 {  // >
                endTag(selfClosing: lastTagByte == 47)
                state = .text
            } else if b == 34 {
                naming = false
                state = .quotedDouble
            } else if b == 39 {
                naming = false
                state = .quotedSingle
            } else {
                if naming {
                    if b == 32 || b == 9 || b == 10 || b == 13 || b == 47 {
                        naming = false
                    } else if b == 58 {  // a prefix: keep the local name only
                        name.removeAll(keepingCapacity: true)
                    } else if name.count < 32 {
                        name.append(b)
                    }
                }
                if b != 32 && b != 9 && b != 10 && b != 13 { lastTagByte = b }
            }
        case .quotedDouble:
            if b == 34 { state = .tag }
        case .quotedSingle:
            if b == 39 { state = .tag }
        case .declaration:
            declaration.append(b)
            if declaration.count == 2 && declaration[0] == 45 && declaration[1] == 45 {  // <!--
                state = .comment
                recent = 0
            } else if declaration.count == 7 && declaration.elementsEqual(Self.cdataOpen) {
                state = .cdata
                recent = 0
            } else if b == 62 && declaration.count > 1 {  // <!DOCTYPE ...>
                state = .text
            }
        case .comment:
            recent = recent << 8 | UInt32(b)
            if recent & 0xFF_FFFF == 0x2D_2D3E { state = .text }  // -->
        case .cdata:
            recent = recent << 8 | UInt32(b)
            if recent & 0xFF_FFFF == 0x5D_5D3E {  // ]]>
                pending.removeLast(min(2, pending.count))
                state = .text
            } else {
                pending.append(b)
                pendingHasText = true
            }
        }
    }

    private static let cdataOpen: [UInt8] = Array("[CDATA[".utf8)

    private mutating func endTag(selfClosing: Bool) {
        if !closing && !selfClosing {
            inTextElement = Self.holdsText(name)
            return
        }
        switch Self.kind(name) {
        case .lineEnd:
            if !output.isEmpty && output.last != 10 { output.append(10) }
        case .space:
            output.append(32)
        case .other:
            break
        }
        inTextElement = false
    }

    private enum TagKind { case lineEnd, space, other }

    /// Elements whose end ends a line of text (w:p, a:p, text:p, text:h, si, c, w:tc, row, w:br ...),
    /// and those that stand for a space (w:tab, text:s, text:tab).
    private static func kind(_ n: [UInt8]) -> TagKind {
        switch n.count {
        case 1:
            switch n[0] {
            case UInt8(ascii: "p"), UInt8(ascii: "h"), UInt8(ascii: "c"): return .lineEnd
            case UInt8(ascii: "s"): return .space
            default: return .other
            }
        case 2:
            if n == Self.si || n == Self.tc || n == Self.tr || n == Self.br || n == Self.cr { return .lineEnd }
            return .other
        case 3:
            if n == Self.row { return .lineEnd }
            if n == Self.tab { return .space }
            return .other
        case 4:
            return n == Self.ptab ? .space : .other
        default:
            return names.contains(n) ? .lineEnd : .other
        }
    }

    private static func holdsText(_ n: [UInt8]) -> Bool {
        (n.count == 1 && (n[0] == UInt8(ascii: "t") || n[0] == UInt8(ascii: "p") || n[0] == UInt8(ascii: "h") || n[0] == UInt8(ascii: "a")))
            || n == Self.span || n == Self.delText
    }

    private static let si = Array("si".utf8), tc = Array("tc".utf8), tr = Array("tr".utf8), br = Array("br".utf8), cr = Array("cr".utf8)
    private static let row = Array("row".utf8), tab = Array("tab".utf8), ptab = Array("ptab".utf8)
    private static let span = Array("span".utf8), delText = Array("delText".utf8)
    private static let names: Set<[UInt8]> = Set(["table-cell", "table-row", "line-break", "comment", "annotation", "note"].map { Array($0.utf8) })

    static func decode(_ entity: [UInt8]) -> [UInt8] {
        switch String(decoding: entity, as: UTF8.self) {
        case "lt": return [60]
        case "gt": return [62]
        case "amp": return [38]
        case "quot": return [34]
        case "apos": return [39]
        case let e where e.hasPrefix("#"):
            let digits = e.dropFirst()
            let value = digits.first == "x" || digits.first == "X" ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            guard let value, let scalar = Unicode.Scalar(value) else { return [] }
            return Array(String(Character(scalar)).utf8)
        default:
            return [38] + entity + [59]
        }
    }
}
