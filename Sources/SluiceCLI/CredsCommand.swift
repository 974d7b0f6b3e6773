// `sluice creds add|list|rotate|revoke|allow`: SMTP credentials, one per
// device or server, like personal access tokens. Each secret has an id (a
// rotation makes a second one under the same name); secrets are printed once,
// here, and stored only as hashes. What a user may send as changes only
// through `creds allow`. Changes apply to the next AUTH without a restart.

import ArgumentParser
import Foundation
import SluiceAdmin
import SluiceConfig
import SluiceCredentials

struct CredsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creds", abstract: "Manage SMTP AUTH credentials.",
        subcommands: [Add.self, List.self, Rotate.self, Revoke.self, Allow.self])

    static func open(_ options: ConfigOption) throws -> CredentialsAdmin {
        let config = try options.loadAsDataOwner()
        return CredentialsAdmin(store: try options.storage(config).store((any CredentialStoring).self))
    }

    static func duration(_ text: String, allowNever: Bool) throws -> Double? {
        if allowNever && text == "never" { return nil }
        guard let d = DurationText.parse(text), d > 0 else {
            throw ValidationError("'\(text)' is not a duration like 90d, 12h\(allowNever ? " or never" : "")")
        }
        return d
    }

    static func printSecret(user: String, name: String, secret: String, json: Bool) throws {
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["user": user, "name": name, "secret": secret], options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(secret)
            FileHandle.standardError.write(
                Data("credential \(user)/\(name): the secret above is shown once; use it as the SMTP AUTH password for user \(user)\n".utf8))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a credential for USER and print its secret once.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The principal (user or application) name used in AUTH.") var user: String
        @Option(name: .long, help: "The credential's name, e.g. the device or server (default: default).") var name = "default"
        @Option(
            name: .long,
            help: "Comma-separated domains/addresses a new USER may send as ('*' for any); for an existing user use `creds allow`.")
        var allowFrom: String?
        @Option(name: .long, help: "Lifetime: 90d, 12h, or never (default 365d).") var expires = "365d"
        @Flag(name: .long, help: "JSON output (the secret under \"secret\").") var json = false

        func run() async throws {
            let admin = try CredsCommand.open(options)
            let allow = allowFrom.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            do {
                let added = try await admin.add(
                    user: user, name: name, allowFrom: allow, expiresIn: try CredsCommand.duration(expires, allowNever: true))
                try CredsCommand.printSecret(user: user, name: name, secret: added.secret, json: json)
                if added.mayNotSendYet {
                    FileHandle.standardError.write(
                        Data("note: \(user) may not send as any address until you set --allow-from\n".utf8))
                }
            } catch let e as AdminError {
                throw UserError(e.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List credentials (never their secrets).")
        @OptionGroup var options: ConfigOption
        @Flag(name: .long, help: "One JSON document.") var json = false

        func run() async throws {
            let admin = try CredsCommand.open(options)
            let now = Date()
            let rows = try await admin.list()
            let iso = ISO8601DateFormatter()
            if json {
                let items: [[String: Any]] = rows.map { c in
                    [
                        "id": c.id, "user": c.user, "name": c.name, "state": c.state(at: now).rawValue,
                        "created_at": iso.string(from: c.createdAt),
                        "expires_at": c.expiresAt.map(iso.string(from:)) ?? NSNull(),
                        "last_used_at": c.lastUsedAt.map(iso.string(from:)) ?? NSNull(),
                        "retires_at": c.retiresAt.map(iso.string(from:)) ?? NSNull(),
                        "allow_from": c.allowFrom,
                    ]
                }
                let data = try JSONSerialization.data(withJSONObject: ["credentials": items], options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            if rows.isEmpty {
                print("No credentials. Create one with: sluice creds add USER --name DEVICE --allow-from DOMAIN")
                return
            }
            let table = TextTable(headers: ["ID", "USER", "NAME", "STATE", "CREATED", "EXPIRES", "LAST USED", "ALLOW FROM"])
            for c in rows {
                var state = c.state(at: now).rawValue
                if let r = c.retiresAt, c.state(at: now) == .retiring { state += " until \(iso.string(from: r))" }
                table.add([
                    "\(c.id)", c.user, c.name, state, iso.string(from: c.createdAt), c.expiresAt.map(iso.string(from:)) ?? "never",
                    c.lastUsedAt.map(iso.string(from:)) ?? "-", c.allowFrom.joined(separator: ","),
                ])
            }
            print(table.render(), terminator: "")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a new secret for USER/NAME; the old one works until the overlap ends.")
        @OptionGroup var options: ConfigOption
        @Argument var user: String
        @Option(name: .long, help: "The credential's name.") var name: String
        @Option(name: .long, help: "How long the old secret keeps working (default 7d; 0s ends it now).") var overlap = "7d"
        @Flag(name: .long, help: "JSON output (the secret under \"secret\").") var json = false

        func run() async throws {
            let admin = try CredsCommand.open(options)
            let overlapSeconds = overlap == "0s" || overlap == "0" ? 0 : try CredsCommand.duration(overlap, allowNever: false) ?? 0
            do {
                let secret = try await admin.rotate(user: user, name: name, overlap: overlapSeconds)
                try CredsCommand.printSecret(user: user, name: name, secret: secret, json: json)
            } catch let e as AdminError {
                throw UserError(e.description)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke one secret (--id, from `creds list`) or every secret of a device (--name), at once.")
        @OptionGroup var options: ConfigOption
        @Argument var user: String
        @Option(name: .long, help: "The credential's name: revokes its current and retiring secrets.") var name: String?
        @Option(name: .long, help: "One secret's id (creds list).") var id: Int64?

        func validate() throws {
            guard (name == nil) != (id == nil) else { throw ValidationError("give --name NAME or --id ID") }
        }

        func run() async throws {
            let admin = try CredsCommand.open(options)
            do {
                let revoked = try await admin.revoke(user: user, id: id, name: name)
                let iso = ISO8601DateFormatter()
                for c in revoked {
                    print("revoked \(c.user)/\(c.name) id \(c.id) (created \(iso.string(from: c.createdAt)))")
                }
            } catch let e as AdminError {
                throw UserError(e.description)
            }
        }
    }

    struct Allow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change the domains and addresses USER may send as.")
        @OptionGroup var options: ConfigOption
        @Argument var user: String
        @Option(name: .long, parsing: .singleValue, help: "A domain or address to allow (repeatable).") var add: [String] = []
        @Option(name: .long, parsing: .singleValue, help: "A domain or address to stop allowing (repeatable).") var remove: [String] = []

        func validate() throws {
            guard !add.isEmpty || !remove.isEmpty else { throw ValidationError("give --add or --remove") }
        }

        func run() async throws {
            let admin = try CredsCommand.open(options)
            do {
                let list = try await admin.allow(user: user, add: add, remove: remove)
                print("\(user) may send as: \(list.isEmpty ? "nothing" : list.joined(separator: ","))")
            } catch let e as AdminError {
                throw UserError(e.description)
            }
        }
    }
}
