/// A LAPACK routine reported `info != 0`.
public struct LAPACKError: Error, CustomStringConvertible, Sendable, Equatable {
    public var routine: String
    public var info: Int32

    public var description: String {
        if info < 0 { return "\(routine): argument \(-info) had an illegal value" }
        switch routine {
        case "dsyevd", "ssyevd": return "\(routine): the eigensolver failed to converge (\(info) off-diagonal elements did not reach zero)"
        case "dgesdd", "sgesdd": return "\(routine): the SVD did not converge (info \(info))"
        default: return "\(routine) failed with info \(info)"
        }
    }
}
