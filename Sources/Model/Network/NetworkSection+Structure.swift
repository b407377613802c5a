import Numerics

/// What a section's structure allows its Jacobian products to skip: whether it mixes
/// positions, and whether it is one fixed linear map followed by an element-wise function.
public extension NetworkSection {
    /// Whether every output position depends on at most one input position (no attention in
    /// the section; lib-general §2). Then one probe per output feature, set at every position at
    /// once, gives each input position's Jacobian rows exactly: the cross terms vanish.
    var isPositionWise: Bool {
        !network.graph.modules[input.moduleIndex..<output.moduleIndex].contains { module in
            if case .attentionOut = module.kind { return true }
            return false
        }
    }

    /// A section `x ↦ h(x·W)` with a fixed matrix W and h element-wise: one MLP layer of an MLP
    /// (h the activation, or the identity for the last layer). Its Jacobian is W·diag(h′(x·W)),
    /// so a gram of Jacobian products can be formed at the narrow side (x·W's width) and W
    /// applied once, instead of once per sample and output direction.
    struct ElementwiseMap: Sendable {
        /// W: input width × output width.
        public let weight: Matrix<Scalar>
        /// h, or nil for the identity (the slopes are then all 1).
        public let activation: ActivationFunction?

        /// h′(x·W) for a batch of input rows (rows × output width); nil when h is the identity.
        public func slopes(_ x: Matrix<Scalar>) -> Matrix<Scalar>? {
            guard let activation else { return nil }
            var pre = x * weight
            pre.elements.withUnsafeMutableBufferPointer { p in
                for i in p.indices { p[i] = activation.derivative(p[i]) }
            }
            return pre
        }
    }

    /// The section as `x ↦ h(x·W)`, when it is one (see `ElementwiseMap`).
    var elementwiseMap: ElementwiseMap? {
        guard output.moduleIndex == input.moduleIndex + 1,
              case let .mlpLayer(index, last) = network.graph.modules[input.moduleIndex].kind else { return nil }
        return ElementwiseMap(weight: network.layers[index], activation: last ? nil : network.activation)
    }
}
