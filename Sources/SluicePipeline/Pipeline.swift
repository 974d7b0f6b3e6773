// Pipeline (R-CORE-1): the only code that takes a received message through
// its stages (sender identity -> verify -> inspect, each adding a typed
// verdict) to the decision (rules, signing, plan). The daemon runs it at end
// of DATA before queueing; `sluice rules test` runs it on a file with the
// verify stage's results given on the command line; `sluice dlp scan` uses
// the inspect stage's scan. None of them decides anything on its own.

import Logging
import NIOPosix
import SluiceCore
import SluiceCredentials
import SluiceMailAuth

public struct Pipeline: Sendable {
    public var stages: [any MessageStage]

    public init(stages: [any MessageStage]) { self.stages = stages }

    /// The daemon's stages, in order. `verifier` is nil when no listener verifies.
    public static func standard(identity: SenderIdentityCheck, verifier: MessageVerifier?, cpu: NIOThreadPool) -> Pipeline {
        var stages: [any MessageStage] = [SenderStage(check: identity)]
        if let verifier { stages.append(VerifyStage(verifier: verifier)) }
        stages.append(InspectStage(io: cpu, sampled: true))
        return Pipeline(stages: stages)
    }

    /// Runs every stage on `message` (adding their verdicts), then decides. Throws what a stage refuses with;
    /// a rule's reject is in the decision, for the caller to answer with.
    public func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws -> Decision {
        for stage in stages { try await stage.run(&message, runtime: runtime, logger: logger) }
        return Decide.decide(message, runtime: runtime)
    }
}
