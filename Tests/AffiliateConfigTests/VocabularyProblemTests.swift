import AffiliateConfig
import AffiliateCore
import Testing

@Suite struct VocabularyProblemTests {
    @Test func aListedWordTheDialectDoesNotKnowNeedsAPhase() {
        let yaml = ConfigTesting.acme("    statuses:\n      payouts: [pending, processing, completed, done]\n")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(8, 49, "tenants.acme.statuses.payouts[3]",
                                  "unknown status word \"done\" (no phase given; known words: pending, processing, completed, failed, cancelled)"),
        ])
    }

    @Test func aMappedWordNeedsAKnownPhase() {
        let yaml = ConfigTesting.acme("    statuses:\n      payouts: { pending: open, on_hold: paused, paid: settled }\n")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(8, 42, "tenants.acme.statuses.payouts.on_hold",
                                  "unknown phase \"paused\" (phases: open, in_progress, settled, failed, void)"),
        ])
    }

    @Test func aMappedWordWithoutAPhaseIsATypeProblem() {
        let yaml = ConfigTesting.acme("    statuses:\n      payouts:\n        pending: open\n        on_hold:\n")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(10, 17, "tenants.acme.statuses.payouts.on_hold",
                                  "expected a phase (open, in_progress, settled, failed, void), found null"),
        ])
    }

    @Test func theMapFormMayUseWordsTheDialectDoesNotKnow() throws {
        let yaml = ConfigTesting.acme("    statuses:\n      payouts: { queued: open, sent: in_progress, paid: settled, bounced: failed }\n")
        let config = try ConfigTesting.loader.load(yaml: yaml, path: ConfigTesting.file)
        let vocabulary = try #require(config.tenants.first?.statusPolicies["payouts"]?.vocabulary)
        #expect(vocabulary == Vocabulary([("queued", .open), ("sent", .inProgress), ("paid", .settled), ("bounced", .failed)]))
        #expect(vocabulary.initial == "queued")
    }

    @Test func anEmptyVocabularyIsRefused() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    statuses:\n      payouts: []\n")) == [
            ConfigTesting.problem(8, 16, "tenants.acme.statuses.payouts", "a vocabulary needs at least one status word"),
        ])
        #expect(ConfigTesting.problems(ConfigTesting.acme("    statuses:\n      payouts: {}\n")) == [
            ConfigTesting.problem(8, 16, "tenants.acme.statuses.payouts", "a vocabulary needs at least one status word"),
        ])
    }

    @Test func aWordListedTwiceIsRefusedAtTheSecond() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    statuses:\n      payouts: [pending, completed, pending]\n")) == [
            ConfigTesting.problem(8, 37, "tenants.acme.statuses.payouts[2]", "duplicate status word \"pending\""),
        ])
    }

    @Test func vocabulariesAreListsOrMappings() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    statuses:\n      payouts: pending\n")) == [
            ConfigTesting.problem(8, 16, "tenants.acme.statuses.payouts",
                                  "expected a list of status words or a mapping of words to phases, found a string"),
        ])
        #expect(ConfigTesting.problems(ConfigTesting.acme("    statuses:\n      payouts: [pending, [paid]]\n")) == [
            ConfigTesting.problem(8, 26, "tenants.acme.statuses.payouts[1]", "expected a status word, found a list"),
        ])
        #expect(ConfigTesting.problems(ConfigTesting.acme("    statuses: [payouts]\n")) == [
            ConfigTesting.problem(7, 15, "tenants.acme.statuses", "expected a mapping of resources to status words, found a list"),
        ])
    }

    @Test func statusesAreOnlyForResourcesOfTheDialect() {
        #expect(ConfigTesting.problems(ConfigTesting.acme("    statuses:\n      payout: [pending]\n      earnings: [paid]\n")) == [
            ConfigTesting.problem(8, 7, "tenants.acme.statuses.payout",
                                  "unknown resource \"payout\" for dialect firstpromoter-v1 (did you mean \"payouts\"?)"),
            ConfigTesting.problem(9, 7, "tenants.acme.statuses.earnings",
                                  "unknown resource \"earnings\" for dialect firstpromoter-v1 (resources: payouts, rewards)"),
        ])
    }

    @Test func transitionsAreBetweenWordsOfTheVocabulary() {
        let yaml = ConfigTesting.acme("""
                statuses:
                  payouts: [pending, processing, completed]
                transitions:
                  payouts: { pending: [processing, paid], shipped: [completed] }

            """)
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(10, 40, "tenants.acme.transitions.payouts.pending[1]",
                                  "unknown status word \"paid\" for payouts (words: pending, processing, completed)"),
            ConfigTesting.problem(10, 47, "tenants.acme.transitions.payouts.shipped",
                                  "unknown status word \"shipped\" for payouts (words: pending, processing, completed)"),
        ])
    }

    @Test func withoutStatusesTransitionsUseTheDefaultVocabulary() {
        let yaml = ConfigTesting.acme("    transitions:\n      payouts: { pending: [failed] }\n")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(8, 28, "tenants.acme.transitions.payouts.pending[0]",
                                  "unknown status word \"failed\" for payouts (words: pending, processing, completed)"),
        ])
    }

    @Test func transitionsAreOnlyForResourcesOfTheDialect() {
        let yaml = ConfigTesting.acme("    transitions:\n      referrals: { pending: [converted] }\n")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(8, 7, "tenants.acme.transitions.referrals",
                                  "unknown resource \"referrals\" for dialect firstpromoter-v1 (resources: payouts, rewards)"),
        ])
    }

    @Test func transitionTargetsAreLists() {
        let yaml = ConfigTesting.acme("    transitions:\n      payouts: { pending: processing }\n")
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(8, 27, "tenants.acme.transitions.payouts.pending", "expected a list of status words, found a string"),
        ])
    }

    @Test func aWrongVocabularyDoesNotAlsoFailItsTransitions() {
        let yaml = ConfigTesting.acme("""
                statuses:
                  payouts: [pending, done]
                transitions:
                  payouts: { pending: [done] }

            """)
        #expect(ConfigTesting.problems(yaml) == [
            ConfigTesting.problem(8, 26, "tenants.acme.statuses.payouts[1]",
                                  "unknown status word \"done\" (no phase given; known words: pending, processing, completed, failed, cancelled)"),
        ])
    }
}
