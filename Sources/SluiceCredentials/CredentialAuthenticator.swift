// CredentialAuthenticator: SMTP AUTH against the credential store, behind the
// failed-login throttle. Failures are answered 535 5.7.8 after a growing
// delay; an IP or user past the limit gets 454 4.7.0 until the window passes,
// and so does every AUTH while the store cannot answer.

import Foundation
import SluiceCore

public struct CredentialAuthenticator: SMTPAuthenticator {
    let store: any CredentialStoring
    let throttle: AuthThrottle

    public init(store: any CredentialStoring, throttle: AuthThrottle) {
        self.store = store
        self.throttle = throttle
    }

    public func authenticate(user: String, secret: String, client: ClientInfo) async throws -> String {
        let ip = client.address?.description ?? "unknown"
        if await throttle.isBlocked(ip: ip, user: user) {
            throw SMTPError(454, .init(4, 7, 0), "Too many failed authentications, try again later", reason: "throttled")
        }
        let matched: String?
        do {
            matched = try await store.authenticate(user: user, secret: secret)
        } catch {
            // The store cannot answer (a shared database down): temporary, the client retries (RFC 4954).
            throw SMTPError(454, .init(4, 7, 0), "Temporary authentication failure, try again later", reason: "credential store: \(error)")
        }
        if matched != nil {
            await throttle.recordSuccess(user: user)
            return user
        }
        let delay = await throttle.recordFailure(ip: ip, user: user)
        try? await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
        throw SMTPError(535, .init(5, 7, 8), "Authentication credentials invalid", reason: "bad, expired or revoked credential")
    }
}
