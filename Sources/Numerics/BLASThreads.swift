import CBLAS

/// The process-wide OpenBLAS thread count. The CLI sets it (`--threads`); tests pin it to 1,
/// because 2-thread BLAS collapses when the machine's other core is busy.
public enum BLASThreads {
    public static var count: Int {
        Int(openblas_get_num_threads())
    }

    public static func set(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// The OpenBLAS build (kernel and thread model), for benchmark headers.
    public static var configuration: String {
        openblas_get_config().map { String(cString: $0) } ?? "unknown"
    }
}
