// ScannersComponent: the content scanners administrators already run, as a
// component (issue 27): `scanners:` read here; clamd as a scan stage on the
// listeners whose rules test `virus:`; the VirusResults verdict and the
// `virus:` condition; a `check` warning when a scanner's timeout does not fit
// the listener's rules_timeout.

import SluiceConfig
import SluiceCore
import SluicePipeline

public struct ScannersComponent: Component {
    public let name = "scanners"
    public var sections: [any ConfigSection.Type] { [ScannersSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        try runtime.register(VirusResults.self)
        try runtime.add(VirusConditionKind(configured: runtime.config.scanners?.virus != nil))
    }

    public func review(_ runtime: Runtime) -> [CheckNote] {
        guard let virus = runtime.config.scanners?.virus else { return [] }
        var notes: [CheckNote] = []
        for listener in runtime.config.listeners where runtime.ruleSet(forListener: listener.name)?.reads.contains(VirusResults.name) ?? false {
            if virus.timeout >= listener.rulesTimeout {
                notes.append(
                    .warning(
                        "scanners.virus: timeout \(Int(virus.timeout))s is not below listener \(listener.name)'s rules_timeout "
                            + "\(Int(listener.rulesTimeout))s: a slow scanner gets 451 4.3.0 there, not its on_error"))
            }
            notes.append(.info("listener \(listener.name): messages are scanned for viruses (clamd, on_error: \(virus.onError.rawValue))"))
        }
        return notes
    }

    public func activate(_ host: inout HostBuilder) throws {
        host.add(stage: VirusScanStage(io: host.environment.executors.files), at: .scan)
    }
}
