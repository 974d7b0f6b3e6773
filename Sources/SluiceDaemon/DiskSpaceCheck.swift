// DiskSpaceCheck: the first session check of every listener: while the queue's
// disk is below queue.min_free, new transactions wait (452 4.3.1 at MAIL,
// R-CORE-3) until space returns.

import SluiceCore
import SluiceQueue

struct DiskSpaceCheck: SessionCheck {
    let disk: DiskSpace

    func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        if disk.isLow { throw DiskSpace.refusal }
    }
}
