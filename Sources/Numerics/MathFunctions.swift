import Foundation

// libm entry points under names that do not collide with the protocol requirements.
@inline(__always) func Foundation_expf(_ x: Float) -> Float { Foundation.expf(x) }
@inline(__always) func Foundation_logf(_ x: Float) -> Float { Foundation.logf(x) }
@inline(__always) func Foundation_exp(_ x: Double) -> Double { Foundation.exp(x) }
@inline(__always) func Foundation_log(_ x: Double) -> Double { Foundation.log(x) }
