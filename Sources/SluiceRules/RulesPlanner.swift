// RulesPlanner: turns the per-recipient outcomes of a rule set into the
// delivery plan stored with the message, so delivery never evaluates again.
// Recipients that go to the same place with the same changes (headers, tags,
// quarantine, signing) share one route. Pure.

import SluiceCore

public enum RulesPlanner {
    /// `signFor`: the domains the signing policy authorised for the whole message (a `dkim_sign` action
    /// adds its own per recipient).
    public static func plan(_ outcomes: [RecipientOutcome], signFor: [String] = [], signingNote: String? = nil) -> DeliveryPlan {
        var routes: [Route] = []
        var dropped: [MailAddress] = []
        for o in outcomes {
            if o.dropped || o.deliveries.isEmpty {
                dropped.append(o.recipient)
                continue
            }
            var signing = signFor
            for d in o.dkimDomains where !signing.contains(d) { signing.append(d) }
            for d in o.deliveries {
                // An archive keeps the message as it arrived: a signature is made for what leaves.
                let key = Route(
                    target: d.target, recipients: [], addHeaders: o.addHeaders, subjectTags: o.subjectTags, held: o.quarantined,
                    onFailure: d.onFailure, maxDeliveryTime: d.maxDeliveryTime, signing: d.signable ? signing : [],
                    quarantine: o.quarantined ? o.quarantinedBy : nil, marks: o.marks)
                if let i = routes.firstIndex(where: { sameRoute($0, key) }) {
                    for r in o.deliverTo where !routes[i].recipients.contains(r) { routes[i].recipients.append(r) }
                } else {
                    var r = key
                    r.recipients = o.deliverTo
                    routes.append(r)
                }
            }
        }
        return DeliveryPlan(routes: routes, dropped: dropped, signingNote: signingNote)
    }

    static func sameRoute(_ a: Route, _ b: Route) -> Bool {
        var b = b
        b.recipients = a.recipients
        return a == b
    }
}
