// RuleLoader: rules/NAME.yaml into a RuleSet, with full validation. Every
// error names file:line:column and says what is wrong in a sentence. The keys
// a rule may use are the vocabulary's (the message's own and those the
// components add); a key no component contributes is refused here, never
// silently ignored. Address lists come from rules/lists/NAME.txt.

import Foundation
import SluiceConfig
import SluiceCore

public struct RuleLoader {
    public let rulesDirectory: String
    /// Resolves relative paths in actions (store) like the config does.
    public let resolvePath: (String) -> String
    public let vocabulary: RuleVocabulary
    private var lists: [String: AddressList] = [:]

    public init(rulesDirectory: String, resolvePath: @escaping (String) -> String, vocabulary: RuleVocabulary) {
        self.rulesDirectory = rulesDirectory
        self.resolvePath = resolvePath
        self.vocabulary = vocabulary
    }

    public mutating func load(set name: String) throws -> RuleSet {
        let file = "\(rulesDirectory)/\(name).yaml"
        return try parse(yaml: try ConfigFileText.read(file, what: "rule set '\(name)'"), file: file, name: name)
    }

    public mutating func parse(yaml: String, file: String, name: String) throws -> RuleSet {
        let root = try ConfigNode.root(yaml: yaml, file: file)
        let top = try root.mapping(allowed: ["rules"])
        guard let rulesNode = top["rules"] else { throw root.error("a rule set needs a 'rules:' list") }
        var rules: [Rule] = []
        var names = Set<String>()
        for item in try rulesNode.list() {
            let m = try item.mapping(allowed: ["name", "when", "unless", "then"])
            guard let nameNode = m["name"] else { throw item.error("every rule needs a 'name'") }
            let ruleName = try nameNode.nonEmptyString()
            guard names.insert(ruleName).inserted else { throw nameNode.error("another rule is already named '\(ruleName)'") }
            let when = try (m["when"]?.list() ?? []).map { try condition($0) }
            let unless = try (m["unless"]?.list() ?? []).map { try condition($0) }
            guard let thenNode = m["then"] else { throw item.error("rule '\(ruleName)' needs a 'then:' list of actions") }
            let actions = try thenNode.list().map { try action($0) }
            guard !actions.isEmpty else { throw thenNode.error("rule '\(ruleName)' has no actions") }
            rules.append(Rule(name: ruleName, when: when, unless: unless, actions: actions))
        }
        return RuleSet(name: name, file: file, rules: rules)
    }

    /// One condition: a mapping with exactly one key of the vocabulary.
    public mutating func condition(_ node: ConfigNode) throws -> any RuleCondition {
        let m = try node.mapping(allowed: vocabulary.conditions.keys.sorted())
        guard m.count == 1, let (key, value) = m.first, let kind = vocabulary.conditions[key] else {
            throw node.error("a condition has exactly one key, such as 'sender:' or 'any:' (use several list items for AND)")
        }
        return try kind.parse(value, &self)
    }

    /// One action: a bare word (`- drop`) or a mapping with exactly one key of the vocabulary.
    public mutating func action(_ node: ConfigNode) throws -> any RuleAction {
        if node.isScalar {
            let word = try node.string()
            guard let kind = vocabulary.actions[word], kind.allowsBareWord else {
                let words = vocabulary.bareWords
                throw node.error(
                    "'\(word)' needs a value (write it as '\(word): ...')"
                        + (words.isEmpty ? "" : ", or use \(words.dropLast().joined(separator: ", ")) or \(words.last!)"))
            }
            return try kind.parse(node.asNull, &self)
        }
        let m = try node.mapping(allowed: vocabulary.actions.keys.sorted())
        guard m.count == 1, let (key, value) = m.first, let kind = vocabulary.actions[key] else {
            throw node.error("an action has exactly one key, such as 'store:'")
        }
        return try kind.parse(value, &self)
    }

    /// The address list rules/lists/NAME.txt, read once per load.
    public mutating func list(named name: String, at node: ConfigNode) throws -> AddressList {
        if let l = lists[name] { return l }
        let l = try AddressList.load(named: name, rulesDirectory: rulesDirectory, at: node)
        lists[name] = l
        return l
    }
}
