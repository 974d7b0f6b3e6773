// XMLText: the text of an Office Open XML or OpenDocument part, streamed.
// Fed the inflated XML in pieces, it drops markup, decodes entities and
// CDATA, and joins the runs of one paragraph or cell into one line: Word
// writes an edited number as `<w:t>4111 1111 </w:t><w:t>1111 1111</w:t>`,
// and detectors must see "4111 1111 1111 1111". Paragraphs, cells, rows and
// shared strings end a line; tabs and `<text:s/>` are spaces. Nothing but the
// current paragraph is kept: memory is one piece, whatever the document size.

struct XMLText {
    private enum State { case text, tagStart, tag, quoted(UInt8), comment, cdata, declaration, entity }

    private var state = State.text
    /// The tag being read: its name bytes and whether it closes (`</x>`) or self-closes (`<x/>`).
    private var name: [UInt8] = []
    private var naming = false
    private var closing = false
    private var lastTagByte: UInt8 = 0
    /// Recent bytes inside a comment, CDATA section or declaration, to find its end.
    private var tail: [UInt8] = []
    private var entity: [UInt8] = []
    /// Character data since the last tag; whitespace-only data between tags is layout, not text.
    private var pending: [UInt8] = []
    private(set) var output: [UInt8] = []

    /// Elements whose end ends a line of text (local names: w:p, a:p, text:p, text:h, si, c, w:tc, row ...).
    private static let lineEnds: Set<[UInt8]> = Set(
        ["p", "h", "si", "c", "tc", "tr", "row", "br", "cr", "table-cell", "table-row", "line-break", "comment", "annotation", "note"]
            .map { Array($0.utf8) })
    /// Elements that stand for a space.
    private static let spaces: Set<[UInt8]> = Set(["tab", "s", "ptab"].map { Array($0.utf8) })
    /// Elements whose whitespace is text (`<w:t xml:space="preserve"> </w:t>`).
    private static let textElements: Set<[UInt8]> = Set(["t", "span", "p", "h", "a", "delText"].map { Array($0.utf8) })
    private var innermost: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) {
        for b in bytes { step(b) }
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
        if pending.contains(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }) || Self.textElements.contains(innermost) {
            output += pending
        }
        pending.removeAll(keepingCapacity: true)
    }

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
            } else {
                pending.append(b == 13 || b == 10 ? 32 : b)
            }
        case .entity:
            if b == 59 {  // ;
                pending += Self.decode(entity)
                state = .text
            } else if entity.count > 10 || b == 60 {
                pending += [38] + entity
                state = .text
                if b == 60 { step(b) } else { pending.append(b) }
            } else {
                entity.append(b)
            }
        case .tagStart:
            if b == 47 {  // </
                closing = true
                state = .tag
            } else if b == 33 || b == 63 {  // <! or <?
                state = .declaration
                tail = [b]
            } else {
                state = .tag
                step(b)
            }
        case .tag:
            if b == 62 {  // >
                endTag(selfClosing: lastTagByte == 47)
                state = .text
            } else if b == 34 || b == 39 {
                naming = false
                state = .quoted(b)
            } else {
                if naming {
                    if b == 32 || b == 9 || b == 10 || b == 13 || b == 47 {
                        naming = false
                    } else if b == 58 {  // a prefix: keep the local name only
                        name.removeAll(keepingCapacity: true)
                    } else {
                        name.append(b)
                    }
                }
                if b != 32 && b != 9 && b != 10 && b != 13 { lastTagByte = b }
            }
        case .quoted(let q):
            if b == q { state = .tag }
        case .declaration:
            tail.append(b)
            if tail.starts(with: Array("![CDATA[".utf8)) {
                state = .cdata
                tail.removeAll(keepingCapacity: true)
            } else if tail.starts(with: Array("!--".utf8)) {
                state = .comment
                tail.removeAll(keepingCapacity: true)
            } else if b == 62, tail.count > 1 {
                state = .text
            }
        case .comment:
            remember(b)
            if tail.suffix(3).elementsEqual(Array("-->".utf8)) { state = .text }
        case .cdata:
            remember(b)
            if tail.suffix(3).elementsEqual(Array("]]>".utf8)) {
                pending.removeLast(2)
                state = .text
            } else {
                pending.append(b)
            }
        }
    }

    private mutating func remember(_ b: UInt8) {
        if tail.count >= 3 { tail.removeFirst() }
        tail.append(b)
    }

    private mutating func endTag(selfClosing: Bool) {
        if !closing && !selfClosing {
            innermost = name
            return
        }
        if Self.lineEnds.contains(name) {
            if output.last != 10 && !output.isEmpty { output.append(10) }
        } else if Self.spaces.contains(name) {
            output.append(32)
        }
        innermost = []
    }

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
