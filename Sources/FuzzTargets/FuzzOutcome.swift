/// What a reader made of one fuzz input. Either is fine for the fuzzer; only a crash, a hang
/// or runaway memory is a finding. The regression tests check that inputs which once crashed
/// are now rejected with a message.
public enum FuzzOutcome: Sendable, Equatable {
    /// The input was read; a short summary of what it held.
    case accepted(String)
    /// The reader refused the input; its error message, as a user would see it.
    case rejected(String)

    public var isRejected: Bool {
        if case .rejected = self { return true }
        return false
    }
}
