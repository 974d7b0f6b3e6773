// WebhookPayload: the JSON a webhook receives (docs/webhook.md and its schema
// docs/webhook.schema.json): the envelope, the client, the verdicts and the
// message as base64 — produced in chunks straight from the queue file, so a
// large message never sits in memory, and produced the same way twice: once
// for the signature, once for the request.
//
//   {"client":{...},"envelope":{"from":"a@b","to":["c@d"]},"id":"...","received_at":"...",
//    "size":1234,"verdicts":{"spf":"pass",...},"webhook":"tickets","message_base64":"..."}

import Foundation
import NIOCore
import NIOPosix
import SluiceCore

public struct WebhookPayload: Sendable {
    /// Everything before the message's base64 (the object's other fields, then `"message_base64":"`).
    let head: [UInt8]
    static let tail = Array("\"}".utf8)
    /// The message: the rewritten prefix, then the queue file's bytes from `offset` to `end`.
    let prefix: [UInt8]
    let path: String
    let offset: Int
    let end: Int
    /// Raw bytes read per chunk (a multiple of 3, so every chunk but the last encodes without padding).
    static let chunk = 3 * 64 * 1024

    public init(webhook: String, message: OutgoingMessage, recipients: [MailAddress]) throws {
        let e = message.envelope
        var client: [String: JSONValue] = ["listener": .string(e.client.listener)]
        client["address"] = e.client.address.map { .string($0.description) } ?? .null
        client["helo"] = e.client.helo.map(JSONValue.string) ?? .null
        client["tls"] = e.client.tlsVersion.map(JSONValue.string) ?? .null
        client["authenticated_user"] = e.client.authenticatedUser.map(JSONValue.string) ?? .null
        var verdicts: [String: JSONValue] = [:]
        for (name, summary) in message.verdicts.summaries { verdicts[name] = .string(summary) }
        let fields: JSONValue = .object([
            "webhook": .string(webhook),
            "id": .string(e.queueID.rawValue),
            "received_at": .string(ISO8601Time.utc(e.receivedAt)),
            "envelope": .object(["from": .string(e.sender?.description ?? ""), "to": .array(recipients.map { .string($0.description) })]),
            "client": .object(client),
            "verdicts": .object(verdicts),
            "size": .int(Int64(message.deliveredSize)),
            "rule": message.marks[WebhookAction.ruleMark]?.last.map(JSONValue.string) ?? .null,
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var object = Array(try encoder.encode(fields))
        object.removeLast()  // the closing brace: the message follows
        head = object + Array(",\"message_base64\":\"".utf8)
        prefix = message.prefixBytes
        path = message.bodyPath
        offset = message.bodyOffset
        end = message.bodyLength
    }

    /// The size of the whole body, known before it is read.
    public var length: Int {
        let raw = prefix.count + (end - offset)
        return head.count + (raw + 2) / 3 * 4 + Self.tail.count
    }

    /// The body in chunks, read from the queue file on `io` as they are asked for.
    public func chunks(io: NIOThreadPool) -> Chunks { Chunks(payload: self, io: io) }

    public struct Chunks: AsyncSequence, Sendable {
        public typealias Element = ByteBuffer
        let payload: WebhookPayload
        let io: NIOThreadPool

        public func makeAsyncIterator() -> Iterator { Iterator(payload: payload, io: io) }

        public struct Iterator: AsyncIteratorProtocol {
            let payload: WebhookPayload
            let io: NIOThreadPool
            var stage = 0
            var position: Int
            /// Raw bytes not yet encoded (fewer than 3 between chunks).
            var carry: [UInt8] = []

            init(payload: WebhookPayload, io: NIOThreadPool) {
                self.payload = payload
                self.io = io
                position = payload.offset
            }

            public mutating func next() async throws -> ByteBuffer? {
                switch stage {
                case 0:
                    stage = 1
                    carry = payload.prefix
                    return ByteBuffer(bytes: payload.head)
                case 1:
                    let count = Swift.min(WebhookPayload.chunk, payload.end - position)
                    var raw = carry
                    if count > 0 {
                        let (path, at) = (payload.path, position)
                        raw += try await io.runIfActive { try WebhookPayload.read(path, at: at, count: count) }
                        position += count
                    }
                    let last = position >= payload.end
                    let usable = last ? raw.count : raw.count - raw.count % 3
                    carry = Array(raw[usable...])
                    if last { stage = 2 }
                    return ByteBuffer(bytes: Array(Data(raw[..<usable]).base64EncodedData()))
                case 2:
                    stage = 3
                    return ByteBuffer(bytes: WebhookPayload.tail)
                default:
                    return nil
                }
            }
        }
    }

    static func read(_ path: String, at offset: Int, count: Int) throws -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else { throw SMTPError(451, .init(4, 3, 0), "Queue file missing") }
        defer { try? h.close() }
        try h.seek(toOffset: UInt64(offset))
        let data = try h.read(upToCount: count) ?? Data()
        guard data.count == count else { throw SMTPError(451, .init(4, 3, 0), "Queue file truncated") }
        return Array(data)
    }
}
