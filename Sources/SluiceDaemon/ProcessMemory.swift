// ProcessMemory: what the daemon holds in RAM (its resident set, from
// /proc/self/statm) and giving back what a burst left free. glibc keeps freed
// memory in its arenas: after a backlog drained, a daemon that had grown to
// 600 MiB stayed there. malloc_trim(0) returns the free pages of every arena
// to the kernel.

import CMalloc
import Foundation

#if canImport(Glibc)
import Glibc
#endif

enum ProcessMemory {
    /// The resident set in bytes; nil where /proc cannot be read (a container without it). An observation only:
    /// `sluice status` then says "unknown" and the gauge is not set; nothing is decided on it.
    static func residentBytes() -> Int? {
        let text: String
        do {
            text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        } catch {
            return nil
        }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Heap bytes malloc holds free in its main arena (mallinfo2 does not see the others), that the kernel could have back.
    static func freeHeapBytes() -> Int {
        Int(sluice_malloc_free_bytes())
    }

    /// Returns free heap memory to the kernel.
    static func trim() {
        _ = sluice_malloc_trim()
    }
}
