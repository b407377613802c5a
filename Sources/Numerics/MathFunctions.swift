import Foundation

// libm entry points under names that do not collide with the protocol requirements.
@inline(__always) func Foundation_expf(_ x: Float) -> Float { Foundation.expf(x) }
@inline(__always) func Foundation_logf(_ x: Float) -> Float { Foundation.logf(x) }
@inline(__always) func Foundation_exp(_ x: Double) -> Double { Foundation.exp(x) }
@inline(__always) func Foundation_log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func Foundation_tanhf(_ x: Float) -> Float { Foundation.tanhf(x) }
@inline(__always) func Foundation_erff(_ x: Float) -> Float { Foundation.erff(x) }
@inline(__always) func Foundation_tanh(_ x: Double) -> Double { Foundation.tanh(x) }
@inline(__always) func Foundation_erf(_ x: Double) -> Double { Foundation.erf(x) }
