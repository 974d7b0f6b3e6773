// LogLineFormat: the two shapes of a log line and how to read them back.
// JSON: {"time":..,"level":..,"msg":..,KEY:VALUE...}. Text (`serve
// --log-format text`, what `make run` prints): TIME LEVEL MSG KEY=VALUE...,
// where MSG and each VALUE are quoted ("...", JSON escapes) when they hold a
// space, a quote, '=', a backslash or a control character. `sluice trace`
// reads both, and journald's export (`journalctl -o json`), whose MESSAGE
// field holds one of them. Pure.

public enum LogLineFormat {
    /// A JSON string literal.
    public static func quote(_ s: String) -> String {
        // Most values need no escaping: copied whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { return "\"" + s + "\"" }
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A message or value in the text format: bare when it can be, quoted when it must.
    public static func textValue(_ s: String) -> String {
        let plain = !s.isEmpty && !s.utf8.contains { $0 <= 0x20 || $0 == 0x22 || $0 == 0x3D || $0 == 0x5C || $0 == 0x7F }
        return plain ? s : quote(s)
    }

    /// One line in the text format.
    public static func text(time: String, level: String, message: String, fields: [(String, String)]) -> String {
        var out = "\(time) \(level) \(textValue(message))"
        for (k, v) in fields { out += " \(k)=\(textValue(v))" }
        return out
    }

    /// The fields of a text line: time, level, msg and each KEY=VALUE. Lines of the older text format (an
    /// unquoted message of several words, unquoted values) read as well as they can: the message runs to the
    /// first KEY= word. nil for a line that is not in the text format.
    public static func parseText(_ line: String) -> [String: String]? {
        let tokens = tokenize(line)
        guard tokens.count >= 3, tokens[0].text.first?.isNumber == true else { return nil }
        var fields = ["time": tokens[0].text, "level": tokens[1].text]
        var message: [String] = []
        var index = 2
        while index < tokens.count, tokens[index].key == nil {
            message.append(tokens[index].text)
            index += 1
        }
        fields["msg"] = message.joined(separator: " ")
        var lastKey: String?
        for token in tokens[index...] {
            if let key = token.key {
                fields[key] = token.text
                lastKey = key
            } else if let k = lastKey {
                fields[k, default: ""] += " " + token.text  // an older line's value with spaces
            }
        }
        return fields
    }

    struct Token {
        var key: String?
        var text: String
    }

    /// Words separated by spaces; a word may be KEY=VALUE; a message or value may be a quoted string.
    static func tokenize(_ line: String) -> [Token] {
        var tokens: [Token] = []
        var chars = Substring(line)
        while true {
            chars = chars.drop { $0 == " " }
            guard !chars.isEmpty else { break }
            var key: String?
            let wordEnd = chars.firstIndex(of: " ") ?? chars.endIndex
            if chars.first != "\"", let eq = chars[..<wordEnd].firstIndex(of: "="), eq > chars.startIndex,
                chars[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            {
                key = String(chars[..<eq])
                chars = chars[chars.index(after: eq)...]
            }
            var text = ""
            if chars.first == "\"" {
                chars = chars.dropFirst()
                while let c = chars.first {
                    chars = chars.dropFirst()
                    if c == "\"" { break }
                    if c == "\\", let next = chars.first {
                        chars = chars.dropFirst()
                        switch next {
                        case "n": text.append("\n")
                        case "r": text.append("\r")
                        case "t": text.append("\t")
                        case "u":
                            let hex = chars.prefix(4)
                            chars = chars.dropFirst(4)
                            if let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) { text.unicodeScalars.append(scalar) }
                        default: text.append(next)
                        }
                    } else {
                        text.append(c)
                    }
                }
            } else {
                let end = chars.firstIndex(of: " ") ?? chars.endIndex
                text = String(chars[..<end])
                chars = chars[end...]
            }
            tokens.append(Token(key: key, text: text))
        }
        return tokens
    }
}
