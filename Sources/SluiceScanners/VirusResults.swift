// What the virus scanner said about a message: the name of what it found,
// or that it could not say (with `on_error: accept`). Rules read it as
// `virus: true` / `virus: { name: {...} }`; the queue keeps it.

import SluiceCore

public struct VirusResults: Verdict, Hashable {
    public static let name = "virus"
    /// The signature clamd matched ("Eicar-Signature"); nil: clean (or not scanned).
    public var found: String?
    /// Why the scanner could not answer (the message went on under `on_error: accept`).
    public var unavailable: String?

    public init(found: String? = nil, unavailable: String? = nil) {
        self.found = found
        self.unavailable = unavailable
    }

    public var forQueue: VirusResults { self }

    public var summary: String { found.map { "virus=\($0)" } ?? (unavailable != nil ? "virus=unavailable" : "virus=clean") }
}
