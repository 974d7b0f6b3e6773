// TLSMaterial: loads the listeners' certificate and key, and makes a
// self-signed pair (ECDSA P-256, one year) when none exists yet, so that
// STARTTLS works on a fresh machine with no setup.

import Crypto
import Foundation
import NIOSSL
import SluiceQueue
import SwiftASN1
import X509

public enum TLSMaterial {
    /// Creates certificate and key files if both are missing; returns true when it made them.
    @discardableResult
    public static func ensure(certificate: String, key: String, hostname: String) throws -> Bool {
        let fm = FileManager.default
        let haveCert = fm.fileExists(atPath: certificate)
        let haveKey = fm.fileExists(atPath: key)
        if haveCert && haveKey { return false }
        if haveCert != haveKey {
            throw DaemonError("only one of \(certificate) and \(key) exists; provide both or neither")
        }
        let privateKey = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(hostname) }
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(privateKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([.dnsName(hostname)])
                KeyUsage(digitalSignature: true)
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: .init(privateKey))
        let certPEM = try cert.serializeAsPEM().pemString + "\n"
        try FileSystem.makeDirectory((certificate as NSString).deletingLastPathComponent)
        try FileSystem.makeDirectory((key as NSString).deletingLastPathComponent)
        try writeFile(privateKey.pemRepresentation + "\n", to: key, mode: 0o600)
        try writeFile(certPEM, to: certificate, mode: 0o644)
        return true
    }

    /// TLS 1.2 suites the listeners offer (TLS 1.3 has its own fixed set): forward secrecy and AEAD only,
    /// and one suite per certificate key type, so the server decides what is used whatever order the
    /// client lists (NIOSSL has no server-preference switch; swift-nio-ssl's default list also has CBC and
    /// static-RSA suites, which testssl.sh rates weak). Every TLS 1.2 client of this decade has AES-GCM.
    static let serverCipherSuites = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"

    /// `clientCA`: ask clients for a certificate and verify one presented against these roots (a client that
    /// presents none completes the handshake; `auth: mtls` refuses its MAIL, with an SMTP reply it can read).
    public static func serverContext(certificate: String, key: String, clientCA: String? = nil) throws -> NIOSSLContext {
        var config: TLSConfiguration
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate)
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            config = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
            config.minimumTLSVersion = .tlsv12
            config.cipherSuites = serverCipherSuites
        } catch {
            throw DaemonError("cannot load TLS certificate \(certificate) / key \(key): \(error)")
        }
        if let clientCA {
            do {
                let roots = try NIOSSLCertificate.fromPEMFile(clientCA)
                guard !roots.isEmpty else { throw DaemonError("no certificate in it") }
                config.trustRoots = .certificates(roots)
                config.certificateVerification = .optionalVerification
                config.sendCANameList = true
            } catch {
                throw DaemonError("cannot load client_ca \(clientCA): \(error)")
            }
        }
        do { return try NIOSSLContext(configuration: config) } catch {
            throw DaemonError("cannot make the TLS context of \(certificate): \(error)")
        }
    }

    static func writeFile(_ text: String, to path: String, mode: Int) throws {
        let tmp = path + ".tmp"
        try FileSystem.writeDurably(Array(text.utf8), to: tmp)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: tmp)
        try FileSystem.rename(tmp, path)
    }
}

public struct DaemonError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
