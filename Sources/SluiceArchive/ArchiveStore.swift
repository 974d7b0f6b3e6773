// The archive's storage contract (R-ARCHIVE-1): what callers use, so that a
// PostgreSQL backend for several gateway nodes can be added later without
// touching them. SQLiteArchiveStore is the one-machine implementation.

import Foundation

/// One message as it goes into an archive.
public struct ArchiveEntry: Sendable {
    public var archive: String
    public var queueID: String
    public var receivedAt: Date
    public var sender: String
    public var recipients: [String]
    public var from: String
    public var to: String
    public var cc: String
    /// Decoded (RFC 2047) subject.
    public var subject: String
    public var messageID: String
    public var attachments: [String]
    /// "credit_card=2, ..." or "".
    public var dlpSummary: String
    /// "spf=pass dkim=pass dmarc=pass" or "".
    public var authSummary: String
    /// Decoded text of the message's text parts, for the full-text index.
    public var bodyText: String
    /// The message exactly as delivered.
    public var raw: [UInt8]
    public var submission = ArchiveSubmission()
    /// Under legal hold from the start (a message copied from another store that held it).
    public var held = false

    public init(
        archive: String, queueID: String, receivedAt: Date, sender: String, recipients: [String], from: String, to: String, cc: String,
        subject: String, messageID: String, attachments: [String], dlpSummary: String, authSummary: String, bodyText: String, raw: [UInt8]
    ) {
        self.archive = archive
        self.queueID = queueID
        self.receivedAt = receivedAt
        self.sender = sender
        self.recipients = recipients
        self.from = from
        self.to = to
        self.cc = cc
        self.subject = subject
        self.messageID = messageID
        self.attachments = attachments
        self.dlpSummary = dlpSummary
        self.authSummary = authSummary
        self.bodyText = bodyText
        self.raw = raw
    }
}

/// A search result: the metadata, without the message bytes.
public struct ArchivedMessage: Sendable, Hashable {
    public var id: Int64
    public var archive: String
    public var queueID: String
    public var receivedAt: Date
    public var sender: String
    public var recipients: [String]
    public var from: String
    public var subject: String
    public var messageID: String
    public var size: Int
    public var attachments: [String]
    public var dlpSummary: String
    public var authSummary: String
    public var submission = ArchiveSubmission()
    /// Under legal hold: kept past its archive's retention and not deleted until released.
    public var held = false

    public init(
        id: Int64, archive: String, queueID: String, receivedAt: Date, sender: String, recipients: [String], from: String, subject: String,
        messageID: String, size: Int, attachments: [String], dlpSummary: String, authSummary: String
    ) {
        self.id = id
        self.archive = archive
        self.queueID = queueID
        self.receivedAt = receivedAt
        self.sender = sender
        self.recipients = recipients
        self.from = from
        self.subject = subject
        self.messageID = messageID
        self.size = size
        self.attachments = attachments
        self.dlpSummary = dlpSummary
        self.authSummary = authSummary
    }
}

/// Who handed a message over and what the checks said: recorded with it, each a search filter.
public struct ArchiveSubmission: Sendable, Hashable {
    /// The client's address, the listener, the AUTH user, the TLS version ("" for none).
    public var clientIP = ""
    public var listener = ""
    public var user = ""
    public var tls = ""
    /// The DLP profiles that matched.
    public var dlpProfiles: [String] = []
    /// The DMARC result ("pass", "fail", ...; "" when not verified).
    public var dmarc = ""

    public init() {}
}

/// Filters of `sluice archive search` (R-ARCHIVE-2); all given ones must hold.
public struct ArchiveQuery: Sendable {
    public var archive: String?
    /// The envelope sender or a From: address: an address, @domain or domain, local@, or a prefix (ArchiveAddressFilter).
    public var from: String?
    /// An envelope recipient or a To:/Cc: address, matched as `from` is.
    public var to: String?
    public var subject: String?
    /// Sluice's text query language (ArchiveTextQuery) over sender, recipients, subject, body text and
    /// attachment names; each store translates it (the SQLite store to FTS5).
    public var text: String?
    /// Inclusive lower bound; `until` is exclusive.
    public var since: Date?
    public var until: Date?
    public var hasAttachment: Bool?
    /// Only messages after this one in the search's order (paging through every match, newest first):
    /// the last message of the previous page.
    public var before: ArchiveCursor?
    /// Exact matches on what the archive records of the submission.
    public var clientIP: String?
    public var listener: String?
    public var user: String?
    /// A DLP profile that matched.
    public var dlpProfile: String?
    /// The DMARC result.
    public var dmarc: String?
    /// Only messages under legal hold (true) or not (false).
    public var held: Bool?
    public var limit = 100

    public init() {}
}

public struct ArchiveStats: Sendable, Hashable {
    public var archive: String
    public var messages: Int
    public var bytes: Int
    public var storedBytes: Int
    public var oldest: Date?
    public var newest: Date?

    public init(archive: String, messages: Int, bytes: Int, storedBytes: Int, oldest: Date?, newest: Date?) {
        self.archive = archive
        self.messages = messages
        self.bytes = bytes
        self.storedBytes = storedBytes
        self.oldest = oldest
        self.newest = newest
    }
}

/// The archive's storage contract: async, so that a database shared by several nodes fits behind it;
/// EmbeddedArchiveStore (SQLite on this machine) is the embedded one, and the contract suite
/// (Tests/SluiceStoreContracts) runs against any.
public protocol ArchiveStore: Sendable {
    /// Adds entries in one transaction; an entry whose archive already holds its queue id is skipped
    /// (a delivery retried after a crash archives once).
    func add(_ entries: [ArchiveEntry]) async throws
    /// Newest first, at most `query.limit`; page on with `query.before`.
    func search(_ query: ArchiveQuery) async throws -> [ArchivedMessage]
    /// How many messages match (every filter; the limit does not apply).
    func count(_ query: ArchiveQuery) async throws -> Int
    func message(id: Int64) async throws -> ArchivedMessage?
    /// The message bytes exactly as archived.
    func raw(id: Int64) async throws -> [UInt8]?
    /// Deletes up to `batch` messages received before the cutoff of their archive, except those under
    /// legal hold; returns how many.
    func purge(before cutoffs: [String: Date], batch: Int) async throws -> Int
    /// Erases these messages (metadata, index entries and bytes); a held one is refused (ArchiveError) and
    /// nothing is deleted. Returns how many were deleted.
    func delete(ids: [Int64]) async throws -> Int
    /// Puts these messages under legal hold, or releases them; returns how many changed.
    func setHold(ids: [Int64], held: Bool) async throws -> Int
    /// Seals every message with the newest encryption key; returns how many changed.
    func rekey() async throws -> Int
    func stats() async throws -> [ArchiveStats]
}

/// Where a page of search results ended: its last message's time received and id.
public struct ArchiveCursor: Sendable, Equatable {
    public var receivedAt: Date
    public var id: Int64

    public init(_ message: ArchivedMessage) {
        receivedAt = message.receivedAt
        id = message.id
    }
}

/// A store whose whole content can be read out as entries (the message bytes, the index text, the hold), to copy it
/// to another backend (`sluice storage copy`); the destination takes them with `add`.
public protocol ArchiveCopySource: Sendable {
    /// Up to `limit` messages after the one with id `after`, in id order, with their ids.
    func export(after: Int64, limit: Int) async throws -> [(id: Int64, entry: ArchiveEntry)]
}
