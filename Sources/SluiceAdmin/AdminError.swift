// AdminError: a mistake the operator can fix (no such message, a bad
// address), said in one sentence. The CLI prints it and exits 1; an HTTP
// admin API answers it as a 4xx.

public struct AdminError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
