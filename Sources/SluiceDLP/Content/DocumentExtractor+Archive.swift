// The archives zip and gzip are not: tar (ustar, pax, GNU), cpio, 7z, rar,
// ISO 9660 and xz, bzip2, zstd and lz4 streams, opened with libarchive
// (ArchiveReader) member by member under the same bounds as a zip: depth,
// members, bytes expanded, expansion ratio, a member's declared size. Each
// member's bytes are opened in turn (a tar.xz of a docx of XML parts). What
// cannot be read is `unscannable` with its reason: encrypted (a 7z with a
// password), corrupt (damaged or truncated), bomb, limits.

import SluiceCore

extension DocumentExtractor {
    mutating func openArchive<S: DocumentSink>(
        _ bytes: ArraySlice<UInt8>, format: String, path: String, depth: Int, into sink: inout S
    ) {
        guard depth < limits.maxDepth else {
            sink.unscannable(path: path, reason: .limits, detail: "nested deeper than \(limits.maxDepth) containers")
            return
        }
        var reader: ArchiveReader
        do {
            reader = try ArchiveReader(bytes)
        } catch {
            report(error, format: format, path: path, into: &sink)
            return
        }
        // Bytes out of this archive so far, against its packed size (a tar.xz's members share one stream).
        var produced = 0
        while !abandoned {
            if readText && sink.isFull { return }
            let member: ArchiveReader.Member
            do {
                guard let next = try reader.next() else { return }
                member = next
            } catch {
                report(error, format: format, path: path, into: &sink)
                return
            }
            guard member.isFile else { continue }
            members += 1
            guard members <= limits.maxMembers else {
                sink.unscannable(path: path, reason: .limits, detail: "more than \(limits.maxMembers) members")
                return
            }
            let name = reader.isRawStream ? Self.withoutCompressionSuffix(path) : member.name
            let memberPath = "\(path)/\(name)"
            sink.member(path: memberPath)
            if member.isEncrypted {
                sink.unscannable(path: memberPath, reason: .encrypted, detail: "encrypted \(format) member")
                continue
            }
            if !readText && !Self.mayHoldFiles(name) { continue }
            if member.declaredSize > limits.ratioFloor && member.declaredSize > max(1, bytes.count) * limits.maxRatio {
                give((.bomb, "\(bytes.count) bytes declare a member of \(member.declaredSize) (over \(limits.maxRatio):1)"), path: memberPath, into: &sink)
                continue
            }
            var data: [UInt8] = []
            var failure: (UnscannableReason, String)?
            let before = produced
            let packed = bytes.count
            do {
                try reader.read { piece in
                    let total = before + data.count + piece.count
                    if total > limits.ratioFloor && total > packed * limits.maxRatio {
                        failure = (.bomb, "\(packed) bytes expand past \(total) (over \(limits.maxRatio):1)")
                    } else if let over = overrun(produced: data.count + piece.count, packed: data.count + piece.count, declared: member.declaredSize) {
                        failure = over
                    }
                    guard failure == nil else { return false }
                    data += piece
                    return true
                }
            } catch {
                expanded += data.count
                report(error, format: format, path: memberPath, into: &sink)
                return
            }
            expanded += data.count
            produced += data.count
            if let failure {
                give(failure, path: memberPath, into: &sink)
                continue
            }
            extract(data[...], path: memberPath, depth: depth + 1, into: &sink)
        }
    }

    private func report<S: DocumentSink>(_ error: ArchiveReader.Failure, format: String, path: String, into sink: inout S) {
        switch error {
        case .encrypted(let why): sink.unscannable(path: path, reason: .encrypted, detail: "\(format): \(why)")
        case .corrupt(let why): sink.unscannable(path: path, reason: .corrupt, detail: "\(format): \(why)")
        }
    }

    /// The name inside a bare compressed stream: "report.pdf.xz" → "report.pdf", "data.txz" → "data.tar".
    static func withoutCompressionSuffix(_ path: String) -> String {
        let last = path.split(separator: "/").last.map(String.init) ?? path
        let lower = last.lowercased()
        for (suffix, replacement) in [(".tbz2", ".tar"), (".tbz", ".tar"), (".txz", ".tar"), (".tzst", ".tar")] where lower.hasSuffix(suffix) {
            return String(last.dropLast(suffix.count)) + replacement
        }
        for suffix in [".xz", ".bz2", ".zst", ".lz4"] where lower.hasSuffix(suffix) {
            return String(last.dropLast(suffix.count))
        }
        return last
    }
}
