import AnvcsCRDT
import Testing

/// Seeds that once failed the long run, kept by name with what they caught.
@Suite struct RegressionTests {
    /// A merge applied a linear run and then set the version to the end of the whole batch,
    /// so the next run of the batch was replayed on the wrong version (invalid positions).
    @Test func seed10227FrontierAfterLinearRunInsideABatch() throws {
        let failure = try Scenario.run(seed: 10227, replicas: 5, steps: 80, checkEveryStep: true)
        #expect(failure == nil, "\(failure ?? "")")
    }
}
