import AffiliateCore
import Testing

@Suite struct StatusPolicyTests {
    let payouts = Vocabulary([("pending", .open), ("processing", .inProgress), ("completed", .settled)])

    @Test func anyMoveInsideTheVocabularyIsAllowedWithoutTransitions() throws {
        let policy = StatusPolicy(vocabulary: payouts)
        let change = try #require(try policy.move(resource: "payouts", from: "completed", to: "pending"))
        #expect(change == StatusChange(from: "completed", to: "pending", fromPhase: .settled, toPhase: .open))
        #expect(change.leavesSettled)
    }

    @Test func aWordOutsideTheVocabularyIsRefusedListingTheWordsInOrder() {
        let policy = StatusPolicy(vocabulary: payouts)
        #expect(throws: EngineError.invalidStatus(resource: "payouts", word: "done", allowed: ["pending", "processing", "completed"])) {
            try policy.move(resource: "payouts", from: "pending", to: "done")
        }
    }

    @Test func declaredTransitionsRefuseUnlistedMoves() throws {
        let policy = StatusPolicy(
            vocabulary: payouts,
            transitions: Transitions(["pending": ["processing", "completed"], "processing": ["completed", "pending"]])
        )
        #expect(try policy.move(resource: "payouts", from: "pending", to: "processing")?.entersSettled == false)
        #expect(throws: EngineError.transitionNotAllowed(resource: "payouts", from: "completed", to: "pending")) {
            try policy.move(resource: "payouts", from: "completed", to: "pending")
        }
    }

    @Test func theSameStatusAgainIsANoOp() throws {
        let policy = StatusPolicy(vocabulary: payouts, transitions: Transitions([:]))
        #expect(try policy.move(resource: "payouts", from: "completed", to: "completed") == nil)
    }

    @Test func creationAcceptsAnyWordRegardlessOfTransitions() throws {
        let policy = StatusPolicy(vocabulary: payouts, transitions: Transitions([:]))
        let change = try #require(try policy.move(resource: "payouts", from: nil, to: "completed"))
        #expect(change.entersSettled)
        #expect(payouts.initial == "pending")
        #expect(payouts.listed == "pending, processing, completed")
    }
}
