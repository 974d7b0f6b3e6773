// ConfigError: a configuration problem with its place: file:line:column, the
// key path and a sentence saying what is wrong (R-OPS-4).

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var keyPath: String
    public var reason: String

    public init(file: String, line: Int?, column: Int?, keyPath: String, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.reason = reason
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        let key = keyPath.isEmpty ? "" : "\(keyPath): "
        return "\(place): \(key)\(reason)"
    }
}
