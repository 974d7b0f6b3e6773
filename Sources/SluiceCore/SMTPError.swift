// SMTPError: the one error type of the pipeline. It carries the reply the client
// sees and, separately, the internal reason that only goes to the log.
// Anything that is not an SMTPError is treated as a temporary failure so that
// mail is kept rather than lost (maddy's rule).

public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public var reply: SMTPReply
    /// What happened, for the log only; never shown to the client.
    public var reason: String

    public init(_ reply: SMTPReply, reason: String? = nil) {
        self.reply = reply
        self.reason = reason ?? reply.lines.joined(separator: " ")
    }

    public init(_ code: Int, _ status: EnhancedStatus, _ text: String, reason: String? = nil) {
        self.init(SMTPReply(code, status, text), reason: reason)
    }

    public var isPermanent: Bool { reply.isPermanentFailure }
    public var description: String { "\(reply) (\(reason))" }

    /// Maps any error to an SMTPError; unknown errors are temporary local failures.
    public static func from(_ error: any Error) -> SMTPError {
        if let smtp = error as? SMTPError { return smtp }
        if let known = error as? any SMTPErrorConvertible { return known.smtpError }
        return SMTPError(451, .init(4, 3, 0), "Temporary local problem, try again later", reason: "\(error)")
    }
}

/// An error of a lower layer that knows which SMTP reply it deserves (a full disk is 452 4.3.1).
public protocol SMTPErrorConvertible: Error {
    var smtpError: SMTPError { get }
}
