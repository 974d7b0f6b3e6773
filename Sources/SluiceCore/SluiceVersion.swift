// SluiceVersion: what `sluice --version` prints and the daemon logs at start.

public enum SluiceVersion {
    public static let number = "0.9.0"

    /// "sluice 0.9.0 (Linux x86_64, debug build)".
    public static var description: String {
        #if os(Linux)
        let os = "Linux"
        #else
        let os = "macOS"
        #endif
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "other"
        #endif
        #if DEBUG
        let kind = "debug build"
        #else
        let kind = "release build"
        #endif
        return "sluice \(number) (\(os) \(arch), \(kind))"
    }
}
