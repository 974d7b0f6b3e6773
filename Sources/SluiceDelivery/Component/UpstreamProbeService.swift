// UpstreamProbeService: probes resting upstream hosts until shutdown, so that
// traffic moves back as soon as they answer.

import ServiceLifecycle

struct UpstreamProbeService: Service {
    let relay: RelayTarget

    func run() async throws {
        let relay = self.relay
        // A service that returns would end the whole group: with nothing to probe, wait for shutdown.
        await cancelWhenGracefulShutdown { await relay.runProbes() }
        // gracefulShutdown() throws only when the task is cancelled, which is the end this waits for.
        try? await gracefulShutdown()
    }
}
