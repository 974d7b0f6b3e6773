// RulesFuzz: arbitrary bytes as a rule set and as rules/dlp.yaml through the
// loaders (YAML, schema, conditions, actions, regexes and custom detectors).
// Errors are the expected answer; only a crash, hang or runaway allocation is
// a finding.

import SluiceDLP
import SluiceRules

public enum RulesFuzz {
    /// The message's own conditions and actions and those of DLP.
    static let vocabulary: RuleVocabulary = {
        do {
            var v = try RuleVocabulary.message()
            try v.add(DLPConditionKind(profiles: ["pci"]))
            try v.add(AttachmentConditionKind())
            return v
        } catch {
            fatalError("the fuzzer's rule vocabulary does not build: \(error)")
        }
    }()

    public static func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        var loader = RuleLoader(rulesDirectory: "/nonexistent", resolvePath: { $0 }, vocabulary: vocabulary)
        _ = try? loader.parse(yaml: text, file: "fuzz.yaml", name: "fuzz")
        if let book = try? DLPBook.parse(yaml: text, file: "dlp.yaml") {
            _ = try? DLPScanner(book: book)
        }
    }
}
