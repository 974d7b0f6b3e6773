// CSVReader: RFC 4180 records with the line each starts on: fields split at
// commas, double quotes around a field that holds commas, quotes ("" inside)
// or line breaks, CRLF or LF. A quote that does not close, or text after a
// closing quote, is an error naming the line.

public struct CSVReader {
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    let bytes: [UInt8]
    var i = 0
    /// The line the next record starts on (1-based).
    public private(set) var line = 1

    public init(_ bytes: [UInt8]) {
        // A UTF-8 byte order mark (what spreadsheet programs write) is not part of the first field.
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
    }

    /// The next record and its line; nil at the end. Blank lines are skipped.
    public mutating func next() throws(Invalid) -> (line: Int, fields: [String])? {
        while i < bytes.count, bytes[i] == 10 || bytes[i] == 13 {
            if bytes[i] == 10 { line += 1 }
            i += 1
        }
        guard i < bytes.count else { return nil }
        let start = line
        var fields: [String] = []
        var field: [UInt8] = []
        while true {
            if i < bytes.count, bytes[i] == 34 {
                i += 1
                while true {
                    guard i < bytes.count else { throw Invalid(line: start, reason: "a quoted field does not close") }
                    let b = bytes[i]
                    i += 1
                    if b == 34 {
                        if i < bytes.count, bytes[i] == 34 {
                            field.append(34)
                            i += 1
                        } else {
                            break
                        }
                    } else {
                        if b == 10 { line += 1 }
                        field.append(b)
                    }
                }
                guard i >= bytes.count || bytes[i] == 44 || bytes[i] == 10 || bytes[i] == 13 else {
                    throw Invalid(line: line, reason: "text after a closing quote (write \"\" for a quote inside a quoted field)")
                }
            } else {
                while i < bytes.count, bytes[i] != 44, bytes[i] != 10, bytes[i] != 13 {
                    if bytes[i] == 34 { throw Invalid(line: line, reason: "a quote inside an unquoted field (quote the field and write \"\")") }
                    field.append(bytes[i])
                    i += 1
                }
            }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            if i < bytes.count, bytes[i] == 44 {
                i += 1
                continue
            }
            // End of record: CRLF, LF or the end of the file.
            if i < bytes.count, bytes[i] == 13 { i += 1 }
            if i < bytes.count, bytes[i] == 10 {
                i += 1
                line += 1
            }
            return (start, fields)
        }
    }
}
