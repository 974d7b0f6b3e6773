// StandardOutput: text for standard output collected in pieces and written
// when a piece is large (or at flush), for listings that stream.

import Foundation

final class StandardOutput {
    private var pending = ""

    func write(_ text: String) {
        pending += text
        if pending.utf8.count >= 64 * 1024 { flush() }
    }

    func flush() {
        guard !pending.isEmpty else { return }
        FileHandle.standardOutput.write(Data(pending.utf8))
        pending = ""
    }

    deinit { flush() }
}
