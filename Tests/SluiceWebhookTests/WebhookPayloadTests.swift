// The webhook body made in chunks from the queue file: the same bytes as the
// JSON made at once, whatever the chunk boundaries, with the length known
// before the first byte is read.

import Foundation
import NIOCore
import NIOPosix
import SluiceCore
import XCTest

@testable import SluiceWebhook

final class WebhookPayloadTests: XCTestCase {
    func testChunksAreTheWholeBodyAndItsLengthIsKnownFirst() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let path = NSTemporaryDirectory() + "sluice-payload-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for size in [0, 1, 2, 3, WebhookPayload.chunk - 1, WebhookPayload.chunk, WebhookPayload.chunk * 2 + 7] {
            let header = Array("Received: x\r\nSubject: s\r\n\r\n".utf8)
            let file = header + (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try Data(file).write(to: URL(fileURLWithPath: path))
            var message = OutgoingMessage(
                envelope: Envelope(
                    queueID: QueueID.generate(), sender: MailAddress(localPart: "a", domain: "b.test"), recipients: [],
                    bodyType: .eightBitMIME, smtpUTF8: false, client: ClientInfo(address: nil, listener: "l"), receivedAt: Date()),
                prependedHeaders: ["X-Added: yes"], bodyPath: path, bodyLength: file.count)
            message.rewrittenHeader = Array("Subject: [EXT] s\r\n\r\n".utf8)
            message.bodyOffset = header.count
            let payload = try WebhookPayload(webhook: "w", message: message, recipients: [MailAddress(localPart: "c", domain: "d.test")])
            var body: [UInt8] = []
            for try await chunk in payload.chunks(io: pool) { body += chunk.readableBytesView }
            XCTAssertEqual(body.count, payload.length, "size \(size)")
            let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "size \(size)")
            let sent = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(doc["message_base64"] as? String)))
            XCTAssertEqual(Array(sent), message.prefixBytes + file[header.count...], "size \(size)")
            XCTAssertEqual(doc["size"] as? Int, sent.count)
        }
        try await pool.shutdownGracefully()
    }
}
