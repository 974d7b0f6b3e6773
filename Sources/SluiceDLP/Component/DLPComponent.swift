// DLPComponent: data loss prevention as a component. Each runtime reads the
// profiles of rules/dlp.yaml and the Exact Data Match indexes of `dlp.edm`
// into a scanner; the inspect stage runs it on
// messages of listeners whose rules test what it finds (or whenever profiles
// exist: findings are logged and archived); rules test `dlp:` and
// `attachment:`.

import SluiceConfig
import SluiceCore
import SluicePipeline

public struct DLPComponent: Component {
    public let name = "dlp"
    public var sections: [any ConfigSection.Type] { [DLPSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        let book = try DLPBook.load(rulesDirectory: runtime.config.rulesDir)
        let sources = runtime.config.edmSources
        runtime.set(try DLPScanner(book: book, edm: try EDMMatcher.load(sources, configFile: runtime.config.file)))
        try runtime.register(InspectionResults.self)
        try runtime.add(DLPConditionKind(profiles: Set(book.profiles.keys), edmSources: Set(sources.keys)))
        try runtime.add(AttachmentConditionKind())
    }

    public func activate(_ host: inout HostBuilder) throws {
        // The daemon applies each profile's sample_percent; a dry run counts every profile, so its answer repeats.
        host.add(stage: InspectStage(io: host.environment.executors.cpu, sampled: host.mode == .daemon), at: .inspect)
    }
}

extension Runtime {
    /// The DLP profiles of this runtime (an empty scanner when DLP is not in the component list).
    public var dlp: DLPScanner? { part(DLPScanner.self) }

    /// Whether the inspect stage reads messages of this listener: it has a rule set, and DLP profiles exist or the
    /// rules read the inspection (attachment names, DLP verdicts).
    public func inspects(listener name: String) -> Bool {
        guard let set = ruleSet(forListener: name) else { return false }
        return !(dlp?.isEmpty ?? true) || set.reads.contains(InspectionResults.name)
    }
}
