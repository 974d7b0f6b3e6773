// The vocabulary these tests load rules with: the message's own and that of
// the built-in components (DLP, mail authentication, archive, delivery), with
// the names a test says are configured.

import SluiceArchive
import SluiceCore
import SluiceDLP
import SluiceDelivery
import SluiceMailAuth
import SluiceRules

extension RuleLoader {
    init(
        rulesDirectory: String, resolvePath: @escaping (String) -> String, upstreams: Set<String> = [], dlpProfiles: Set<String> = [],
        archives: Set<String> = [], canSign: @escaping @Sendable (String) -> Bool = { _ in false }
    ) {
        do {
            var v = try RuleVocabulary.message()
            try v.add(DLPConditionKind(profiles: dlpProfiles))
            try v.add(AttachmentConditionKind())
            for m in AuthenticationMethod.allCases { try v.add(AuthenticationConditionKind(m)) }
            try v.add(DKIMSignActionKind(canSign: canSign))
            try v.add(ArchiveActionKind(archives: archives))
            try v.add(StoreActionKind())
            try v.add(RelayActionKind(upstreams: upstreams))
            try v.add(SendActionKind())
            try v.add(BounceAction.Kind())
            self.init(rulesDirectory: rulesDirectory, resolvePath: resolvePath, vocabulary: v)
        } catch {
            fatalError("\(error)")
        }
    }
}
