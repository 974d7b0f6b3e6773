// ScannersComponent: the content scanners administrators already run, as a
// component (issue 27): `scanners:` read here; spamd and clamd as scan stages
// on the listeners whose rules test `spam:` or `virus:`; their verdicts,
// conditions and the `spam_headers` action; a `check` warning when a
// scanner's timeout does not fit the listener's rules_timeout.

import SluiceConfig
import SluiceCore
import SluicePipeline

public struct ScannersComponent: Component {
    public let name = "scanners"
    public var sections: [any ConfigSection.Type] { [ScannersSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        try runtime.register(VirusResults.self)
        try runtime.register(SpamResults.self)
        try runtime.add(VirusConditionKind(configured: runtime.config.scanners?.virus != nil))
        try runtime.add(SpamConditionKind(configured: runtime.config.scanners?.spam != nil))
        try runtime.add(SpamHeadersAction.Kind(configured: runtime.config.scanners?.spam != nil))
    }

    public func review(_ runtime: Runtime) -> [CheckNote] {
        var notes: [CheckNote] = []
        let scanners = [("virus", runtime.config.scanners?.virus, VirusResults.name), ("spam", runtime.config.scanners?.spam, SpamResults.name)]
        for (kind, endpoint, verdict) in scanners {
            guard let endpoint else { continue }
            for listener in runtime.config.listeners where runtime.ruleSet(forListener: listener.name)?.reads.contains(verdict) ?? false {
                if endpoint.timeout >= listener.rulesTimeout {
                    notes.append(
                        .warning(
                            "scanners.\(kind): timeout \(Int(endpoint.timeout))s is not below listener \(listener.name)'s rules_timeout "
                                + "\(Int(listener.rulesTimeout))s: a slow scanner gets 451 4.3.0 there, not its on_error"))
                }
                notes.append(.info("listener \(listener.name): messages go to the \(kind) scanner (on_error: \(endpoint.onError.rawValue))"))
            }
        }
        return notes
    }

    public func activate(_ host: inout HostBuilder) throws {
        let env = host.environment
        let health = ScannerHealth()
        host.add(stage: ScanStage.spam(io: env.executors.files, health: health, clock: env.clock), at: .scan)
        host.add(stage: ScanStage.virus(io: env.executors.files, health: health, clock: env.clock), at: .scan)
        let runtime = env.runtime
        host.add(status: StatusSection(name: "scanners") {
            let s = runtime.current.config.scanners
            return health.report(configured: [s?.spam.map { _ in "spam" }, s?.virus.map { _ in "virus" }].compactMap { $0 })
        })
    }
}
