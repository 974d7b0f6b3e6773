// SMTPSessionFuzz: arbitrary client bytes through the SMTP server session, the
// way the NIO handler drives it (every check answers yes, AUTH answers no,
// STARTTLS succeeds), in chunks whose sizes come from the input itself so
// the fuzzer also explores how commands are split across reads. Every
// complete line is also handed to the command parser alone.

import NIOCore
import SluiceCore
import SluiceSMTP

public enum SMTPSessionFuzz {
    public static func run(_ data: UnsafeRawBufferPointer) {
        guard let first = data.first else { return }
        let chunk = Int(first % 64) + 1
        let bytes = data.dropFirst()
        var config = SMTPServerSession.Configuration(
            hostname: "fuzz.test", maxMessageSize: 4096, maxRecipients: 5, tlsAvailable: true, requireTLS: first & 0x80 != 0)
        config.auth = first & 0x40 != 0 ? .required : .none
        config.bareLineEndings = first & 0x20 != 0 ? .normalize : .reject
        var session = SMTPServerSession(configuration: config, client: ClientInfo(address: IPAddress("192.0.2.1"), listener: "fuzz"))
        var input = ByteBuffer()
        var pending = [session.start()]
        var offset = bytes.startIndex
        while !session.isClosed {
            while let action = pending.popLast() {
                if let follow = execute(action, &session) { pending.append(follow) }
            }
            if let action = session.next(&input) {
                pending.append(action)
                continue
            }
            guard offset < bytes.endIndex else { break }
            let end = min(offset + chunk, bytes.endIndex)
            input.writeBytes(bytes[offset..<end])
            offset = end
        }
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            _ = try? SMTPCommandParser.parse(line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...], utf8Recipients: true)
        }
    }

    /// The reaction of a permissive server; returns the session's next action, if any.
    private static func execute(_ action: SMTPServerSession.Action, _ session: inout SMTPServerSession) -> SMTPServerSession.Action? {
        switch action {
        case .send, .refuse, .sendAndClose, .beginMessage, .messageData, .abortMessage:
            return nil
        case .startTLS:
            session.tlsEstablished(version: "TLSv1.3", cipher: nil)
            return nil
        case .checkSender:
            return session.senderChecked(.success(()))
        case .checkRecipient:
            return session.recipientChecked(.success(()))
        case .authenticate:
            return session.authenticationFinished(.failure(SMTPError(535, .init(5, 7, 8), "no")))
        case .endMessage(let envelope, _):
            return session.messageFinished(.success(envelope.queueID))
        }
    }
}
