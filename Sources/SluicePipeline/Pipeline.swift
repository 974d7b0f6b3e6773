// Pipeline (R-CORE-1): the only code that takes a received message through
// its stages (sender identity -> verify -> inspect -> scan, each adding a
// typed verdict) to the decision (rules, signing, plan). The stages are the
// components' (Host.build orders them by place); the daemon runs the pipeline
// at end of DATA before queueing, and `sluice rules test` runs the same one
// on a file, with the verdicts that need the network given on the command
// line. None of them decides anything on its own.

import Logging
import SluiceCore

public struct Pipeline: Sendable {
    public var stages: [any MessageStage]

    public init(stages: [any MessageStage]) { self.stages = stages }

    /// Runs every stage on `message` (adding their verdicts), then decides. Throws what a stage refuses with;
    /// a rule's reject is in the decision, for the caller to answer with.
    public func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws -> Decision {
        for stage in stages { try await stage.run(&message, runtime: runtime, logger: logger) }
        return Decide.decide(message, runtime: runtime)
    }
}
