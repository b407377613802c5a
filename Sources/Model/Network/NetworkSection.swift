import Numerics

/// A list of node layers that does not cut a model: an unknown name, a repeat, or names out of
/// model order.
public struct NodeLayerError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

public extension NodeLayerGraph {
    /// The node layers named (by name or one-part hook name), checked to be distinct and in
    /// model order, so that consecutive ones bound sections.
    func nodeLayers(_ names: [String]) throws(NodeLayerError) -> [NodeLayer] {
        var result: [NodeLayer] = []
        for name in names {
            guard let layer = layer(named: name) else {
                throw NodeLayerError(description: "'\(name)' is not a node layer of this \(config.summary) (its node layers: \(layerNames.joined(separator: ", ")))")
            }
            if let previous = result.last {
                guard layer.moduleIndex != previous.moduleIndex else {
                    throw NodeLayerError(description: "node layer '\(layer.name)' is named twice")
                }
                guard layer.moduleIndex > previous.moduleIndex else {
                    throw NodeLayerError(description: "node layer '\(layer.name)' comes before '\(previous.name)' in the model: name node layers in model order")
                }
            }
            result.append(layer)
        }
        return result
    }
}

/// The part of a model between two node layers: a function from the first node layer's
/// activations to the second's, with its vector-Jacobian product. Rows are samples × the
/// layer's positions, sample-major; features are the node layer's parts concatenated.
public struct NetworkSection<Scalar: BLASScalar>: Sendable {
    public let network: FoldedNetwork<Scalar>
    public let input: NodeLayerGraph.NodeLayer
    public let output: NodeLayerGraph.NodeLayer

    /// What the forward pass keeps for the backward pass.
    public struct Tape: Sendable {
        let modules: [ModuleTape<Scalar>]
    }

    public var name: String { "\(input.name)->\(output.name)" }

    /// output = F(input) for a batch; the tape feeds `backward`.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    public func forward(_ x: Matrix<Scalar>, threads: Int = 1) -> (output: Matrix<Scalar>, tape: Tape) {
        precondition(x.columns == input.width && x.rows % input.positions == 0, "\(x.rows)x\(x.columns) is not a batch of \(input.name)")
        var parts = Self.split(x, input.parts)
        var tapes: [ModuleTape<Scalar>] = []
        for index in input.moduleIndex..<output.moduleIndex {
            let (next, tape) = network.forward(network.graph.modules[index], parts, positions: network.graph.layers[index].positions, threads: threads)
            parts = next
            tapes.append(tape)
        }
        return (Matrix.hstack(parts), Tape(modules: tapes))
    }

    /// F(input), without keeping a tape.
    public func callAsFunction(_ x: Matrix<Scalar>, threads: Int = 1) -> Matrix<Scalar> { forward(x, threads: threads).output }

    /// The vector-Jacobian product: for `directions` stacked gradients of the output (rows
    /// direction-major: direction k's row r at k·rows + r), the gradients of the input at the
    /// point the tape was recorded at, stacked the same way.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    public func backward(_ g: Matrix<Scalar>, tape: Tape, directions: Int = 1, threads: Int = 1) -> Matrix<Scalar> {
        precondition(g.columns == output.width, "gradient of \(g.columns) features for \(output.name)'s \(output.width)")
        var parts = Self.split(g, output.parts)
        for index in (input.moduleIndex..<output.moduleIndex).reversed() {
            parts = network.backward(network.graph.modules[index], parts, tape: tape.modules[index - input.moduleIndex],
                                     positions: network.graph.layers[index].positions, directions: directions, threads: threads)
        }
        return Matrix.hstack(parts)
    }

    /// The node layer's concatenated features cut back into its parts.
    static func split(_ x: Matrix<Scalar>, _ parts: [NodeLayerGraph.Part]) -> [Matrix<Scalar>] {
        guard parts.count > 1 else { return [x] }
        var start = 0
        return parts.map { part in
            defer { start += part.width }
            return x.columns(start..<(start + part.width))
        }
    }
}

public extension FoldedNetwork {
    /// The section between two node layers (by name or hook name), `from` before `to`.
    func section(from: String, to: String) throws(NodeLayerError) -> NetworkSection<Scalar> {
        let pair = try graph.nodeLayers([from, to])
        return NetworkSection(network: self, input: pair[0], output: pair[1])
    }

    /// The sections between consecutive node layers of `names`.
    func sections(through names: [String]) throws(NodeLayerError) -> [NetworkSection<Scalar>] {
        let layers = try graph.nodeLayers(names)
        return zip(layers, layers.dropFirst()).map { NetworkSection(network: self, input: $0, output: $1) }
    }

    /// Runs a transformer on token sequences (each `graph.positions` long) and returns the
    /// activations of the node layers named in `capturing` (concatenated parts, rows sample-major).
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func activations(tokens: [[Int]], capturing names: [String], threads: Int = 1) throws(NodeLayerError) -> [String: Matrix<Scalar>] {
        guard case let .transformer(c) = graph.config else { preconditionFailure("token input for an MLP") }
        let p = graph.positions, w = c.dModel + 1
        precondition(tokens.allSatisfy { $0.count == p }, "every sequence must have \(p) tokens")
        precondition(tokens.allSatisfy { $0.allSatisfy { (0..<c.dVocab).contains($0) } }, "token out of range")
        var e = Matrix<Scalar>.uninitialized(rows: tokens.count * p, columns: w)
        var pe = Matrix<Scalar>.uninitialized(rows: tokens.count * p, columns: w)
        embed.elements.withUnsafeBufferPointer { table in
            positional.elements.withUnsafeBufferPointer { positions in
                e.elements.withUnsafeMutableBufferPointer { ep in
                    pe.elements.withUnsafeMutableBufferPointer { pp in
                        for (s, sequence) in tokens.enumerated() {
                            for (i, t) in sequence.enumerated() {
                                (ep.baseAddress! + (s * p + i) * w).update(from: table.baseAddress! + t * w, count: w)
                                (pp.baseAddress! + (s * p + i) * w).update(from: positions.baseAddress! + i * w, count: w)
                            }
                        }
                    }
                }
            }
        }
        return try run(from: [e, pe], capturing: names, threads: threads)
    }

    /// Runs an MLP on a batch of flattened inputs (N × input_size) and returns the activations
    /// of the node layers named in `capturing`.
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    func activations(features: Matrix<Scalar>, capturing names: [String], threads: Int = 1) throws(NodeLayerError) -> [String: Matrix<Scalar>] {
        guard case let .mlp(c) = graph.config else { preconditionFailure("feature input for a transformer") }
        precondition(features.columns == c.inputSize, "\(features.columns) features for an input of \(c.inputSize)")
        if names.contains(where: { graph.layer(named: $0)?.moduleIndex == 0 }) {
            let ones = Matrix<Scalar>(rows: features.rows, columns: 1, repeating: 1)
            return try run(from: [Matrix.hstack([features, ones])], capturing: names, threads: threads)
        }
        // Without layers.0 among the captures, x ⊕ 1 is never formed: x·W^f = x·W^f[0..<in] + W^f[in].
        let first = layers[0]
        var pre = features.leadingBlockProduct(rows: 0..<features.rows, depth: c.inputSize, first)
        pre.addToEachRow(Array(first.row(c.inputSize)))
        if c.layerCount > 1 { activation.apply(&pre.elements) }
        return try run(from: [pre], startingAt: 1, capturing: names, threads: threads)
    }

    /// Runs the modules from index `start`, whose input is `input`, to the last captured layer.
    private func run(from input: [Matrix<Scalar>], startingAt start: Int = 0, capturing names: [String], threads: Int) throws(NodeLayerError) -> [String: Matrix<Scalar>] {
        var wanted: [Int: [String]] = [:]
        for name in names {
            guard let layer = graph.layer(named: name) else { _ = try graph.nodeLayers([name]); continue }
            wanted[layer.moduleIndex, default: []].append(name)
        }
        var result: [String: Matrix<Scalar>] = [:]
        var parts = input
        let end = max(wanted.keys.max() ?? start, start)
        for index in start...end {
            if let names = wanted[index] {
                let joined = Matrix.hstack(parts)
                for name in names { result[name] = joined }
            }
            guard index < end else { break }
            parts = forward(graph.modules[index], parts, positions: graph.layers[index].positions, threads: threads).output
        }
        return result
    }
}
