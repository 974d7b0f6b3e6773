// ConfigFileText: the text of a file the configuration names (a rule set, an
// address list); one that cannot be read is a ConfigError that says why
// (missing, permission denied, not UTF-8) and names the file.

import Foundation

public enum ConfigFileText {
    public static func read(_ file: String, what: String) throws -> String {
        do {
            return try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            let reason: String
            switch (error as NSError).code {
            case NSFileReadNoSuchFileError, NSFileNoSuchFileError: reason = "\(what) not found (expected \(file))"
            case NSFileReadNoPermissionError: reason = "\(what): permission denied reading \(file)"
            case NSFileReadInapplicableStringEncodingError: reason = "\(what): \(file) is not UTF-8 text"
            default: reason = "\(what): cannot read \(file): \(error.localizedDescription)"
            }
            throw ConfigError(file: file, line: nil, column: nil, keyPath: "", reason: reason)
        }
    }
}
