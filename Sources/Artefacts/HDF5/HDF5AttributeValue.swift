/// The value of an attribute, as it is stored (and as h5py reads it):
///
/// | case        | stored as                                        | h5py reads       |
/// |-------------|--------------------------------------------------|------------------|
/// | `string`    | scalar variable-length UTF-8 string              | `str`            |
/// | `int`       | scalar int64                                     | `numpy.int64`    |
/// | `double`    | scalar float64                                   | `numpy.float64`  |
/// | `bool`      | scalar enum of int8 {FALSE = 0, TRUE = 1}, h5py's own bool type | `numpy.bool_` |
/// | `ints`      | 1-D int64 array                                  | `numpy.ndarray` of int64   |
/// | `doubles`   | 1-D float64 array                                | `numpy.ndarray` of float64 |
///
/// Reading accepts what other writers use too: fixed-length strings, any integer width (as
/// `int`/`ints`), float32 (as `double`/`doubles`), and an integer 0 or 1 as `bool`.
public enum HDF5AttributeValue: Hashable, Sendable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case ints([Int])
    case doubles([Double])

    /// "a string", "an int array", ... for error messages.
    var kindDescription: String {
        switch self {
        case .string: "a string"
        case .int: "an int"
        case .double: "a double"
        case .bool: "a bool"
        case .ints: "an int array"
        case .doubles: "a double array"
        }
    }
}
