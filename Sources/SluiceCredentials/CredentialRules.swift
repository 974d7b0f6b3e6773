// CredentialRules: what every CredentialStoring backend decides the same way
// (which names are valid, how an allow-list is written, what each refusal
// says), so that `sluice creds` answers alike on SQLite and on PostgreSQL.

import Foundation

public enum CredentialRules {
    public static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128
            && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-@+".unicodeScalars.contains($0) }
    }

    /// Refuses an invalid user or credential name.
    public static func checkNames(user: String, name: String) throws {
        guard isValidName(user) else { throw CredentialError("invalid user name '\(user)': use letters, digits, . _ - @") }
        guard isValidName(name) else { throw CredentialError("invalid credential name '\(name)': use letters, digits, . _ - @") }
    }

    /// The stored form of an allow-list is "a,b,c".
    public static func splitList(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A new device of an existing user must not quietly change what the user may send as.
    public static func checkAllowFrom(user: String, current: String, requested: [String]?) throws {
        guard let requested, Set(requested) != Set(splitList(current)) else { return }
        throw CredentialError(
            "\(user) already exists and may send as \(current.isEmpty ? "nothing" : current); change that with "
                + "`sluice creds allow \(user) --add ... --remove ...`, or leave --allow-from out")
    }

    /// The list after `creds allow USER --add ... --remove ...` (removing what is not there is refused).
    public static func changed(_ current: [String], user: String, add: [String], remove: [String]) throws -> [String] {
        var list = current
        for r in remove {
            guard list.contains(where: { $0.caseInsensitiveCompare(r) == .orderedSame }) else {
                throw CredentialError("\(user) may not send as \(r) now; nothing to remove (allowed: \(list.joined(separator: ",")))")
            }
            list.removeAll { $0.caseInsensitiveCompare(r) == .orderedSame }
        }
        for a in add where !list.contains(where: { $0.caseInsensitiveCompare(a) == .orderedSame }) { list.append(a) }
        return list
    }

    public static func nameTaken(user: String, name: String) -> CredentialError {
        CredentialError("\(user) already has a credential named '\(name)'; rotate or revoke it")
    }

    public static func noLiveCredential(user: String, name: String) -> CredentialError {
        CredentialError("\(user) has no live credential named '\(name)'")
    }

    public static func nothingToRevoke(user: String, name: String) -> CredentialError {
        CredentialError("\(user) has no credential named '\(name)' (or it is revoked already)")
    }

    public static func nothingToRevoke(user: String, id: Int64) -> CredentialError {
        CredentialError("\(user) has no credential with id \(id) (or it is revoked already)")
    }

    public static func noUser(_ user: String) -> CredentialError {
        CredentialError("no user \(user); create one with `sluice creds add \(user) --allow-from ...`")
    }

    /// Which of the candidates (id, name, hash) the secret's hash matches; every one is compared, so timing does not
    /// tell which.
    public static func match(_ hash: [UInt8], among candidates: [(id: Int64, name: String, hash: [UInt8])]) -> (id: Int64, name: String)? {
        var matched: (Int64, String)?
        for c in candidates where Secret.equal(c.hash, hash) { matched = (c.id, c.name) }
        return matched
    }
}
