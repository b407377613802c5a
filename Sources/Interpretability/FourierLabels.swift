import Foundation
import Model
import Numerics

/// One term of a feature's Fourier decomposition (lib-method.md §11), named as the reference
/// names it: `const`, `cos(3x) + cos(3y)`, `cos(3x)`, `cos(3y)`, `cos(5x + 7y)`,
/// `cos(5x - 7y)`, `cos(2x) * cos(4y)`, `sin(2x) * sin(4y)`. "cos" includes the sine phase.
public enum FourierTerm: Sendable, Hashable {
    case constant
    /// `cos(ix) + cos(iy)`: both single-axis terms of frequency i, when their shares are within 0.01.
    case axes(Int)
    case x(Int)
    case y(Int)
    case sum(Int, Int)
    case difference(Int, Int)
    case cosCos(Int, Int)
    case sinSin(Int, Int)

    public var text: String {
        switch self {
        case .constant: return "const"
        case let .axes(i): return "cos(\(i)x) + cos(\(i)y)"
        case let .x(i): return "cos(\(i)x)"
        case let .y(i): return "cos(\(i)y)"
        case let .sum(i, j): return "cos(\(i)x + \(j)y)"
        case let .difference(i, j): return "cos(\(i)x - \(j)y)"
        case let .cosCos(i, j): return "cos(\(i)x) * cos(\(j)y)"
        case let .sinSin(i, j): return "sin(\(i)x) * sin(\(j)y)"
        }
    }
}

/// A term with its value: its power as a share of the grid's total power.
public struct FourierLabel: Sendable, Equatable {
    public var term: FourierTerm
    public var share: Double

    public init(_ term: FourierTerm, _ share: Double) {
        self.term = term
        self.share = share
    }

    public var text: String { term.text }
}

/// Which pair of names the cross terms (both frequencies non-zero) get: `cos(ix ± jy)`, or
/// `cos(ix)·cos(jy)` and `sin(ix)·sin(jy)`. §11 picks the one that separates the power better.
public enum FourierCrossConvention: String, Sendable {
    case sumDifference = "sum_difference"
    case product = "product"
}

/// How a feature's power splits over the families of terms, each as a share of the total.
/// `constant + xOnly + yOnly + sum + difference = 1` and `sum + difference = cosCos + sinSin`
/// (up to round-off): the cross power written in either convention.
public struct FourierFamilyShares: Sendable, Equatable {
    public var constant: Double
    /// Σ_i cx_i: `cos(ix)` terms (F[±i, 0]).
    public var xOnly: Double
    /// Σ_i cy_i: `cos(iy)` terms (F[0, ±i]).
    public var yOnly: Double
    /// S₊/total: the `cos(ix + jy)` terms.
    public var sum: Double
    /// S₋/total: the `cos(ix - jy)` terms.
    public var difference: Double
    /// S_cc/total: the `cos(ix) * cos(jy)` terms.
    public var cosCos: Double
    /// S_ss/total: the `sin(ix) * sin(jy)` terms.
    public var sinSin: Double
    /// The convention §11's rule picked for the candidate labels.
    public var convention: FourierCrossConvention

    /// The power in terms with both frequencies non-zero.
    public var cross: Double { sum + difference }
}

/// The Fourier label of one feature: the kept terms (at most 7, largest first), the CSV cell,
/// the family shares and the dominant frequency.
public struct FourierFeatureLabel: Sendable, Equatable {
    public var kept: [FourierLabel]
    /// The kept terms joined with `|`, each as `<percent>% <term>` (printf "%.0f" rounding).
    public var cell: String
    public var families: FourierFamilyShares
    /// The frequency k ≥ 1 with the most power, counting each entry F[k₁, k₂] towards its x
    /// frequency and its y frequency (folded to 1…(p−1)/2); 0 when the non-constant power is
    /// round-off (under 1e-9 of the total).
    public var dominantFrequency: Int
    /// That frequency's part of the power so counted.
    public var dominantFrequencyShare: Double
    /// `Σ |F|²` of the grid.
    public var totalPower: Double
}

/// Fourier labels of feature activations on the p × p grid of inputs (lib-method.md §11).
public enum FourierLabels {
    /// Stop once the kept labels hold more than this part of the values.
    public static let coverage = 0.995
    /// Stop after a label holding less than this part of the values.
    public static let smallest = 0.005
    /// At most this many labels per feature.
    public static let maximumKept = 7
    /// `cos(ix)` and `cos(iy)` merge into one label when their shares differ by less than this.
    public static let axisTolerance = 0.01

    /// Labels every column of `grids` (rows `a·p + b`, one column per feature).
    @_specialize(exported: true, where Scalar == Double)
    @_specialize(exported: true, where Scalar == Float)
    public static func label<Scalar: BLASScalar>(grids: Matrix<Scalar>, p: Int) -> [FourierFeatureLabel] {
        let spectra = FourierSpectra(grids: grids, p: p)
        return (0..<grids.columns).map { label(spectra, grid: $0) }
    }

    /// Labels grid `g` of a set of spectra.
    public static func label(_ spectra: FourierSpectra, grid g: Int) -> FourierFeatureLabel {
        let (candidates, families) = candidates(spectra, grid: g)
        let kept = select(candidates)
        let (k, share) = dominantFrequency(spectra, grid: g)
        return FourierFeatureLabel(kept: kept, cell: cell(kept), families: families, dominantFrequency: k,
                                   dominantFrequencyShare: share, totalPower: spectra.totals[g])
    }

    /// The candidate labels of §11 in their creation order (constant; single-axis terms per
    /// frequency; cross terms, i outer and j inner, in the convention the S₊/S₋ vs S_cc/S_ss rule
    /// picks), and the family shares. A grid with no power at all is labelled `100% const`.
    public static func candidates(_ spectra: FourierSpectra, grid g: Int) -> (labels: [FourierLabel], families: FourierFamilyShares) {
        let p = spectra.p, h = (p - 1) / 2
        let total = spectra.totals[g]
        guard total > 0 else {
            return ([FourierLabel(.constant, 1)],
                    FourierFamilyShares(constant: 1, xOnly: 0, yOnly: 0, sum: 0, difference: 0, cosCos: 0, sinSin: 0, convention: .product))
        }
        var labels: [FourierLabel] = []
        labels.reserveCapacity(1 + 2 * h + 2 * h * h)
        let constant = spectra.power(0, 0, grid: g) / total
        labels.append(FourierLabel(.constant, constant))
        var xOnly = 0.0, yOnly = 0.0
        for i in 1...h {
            let cx = (spectra.power(i, 0, grid: g) + spectra.power(p - i, 0, grid: g)) / total
            let cy = (spectra.power(0, i, grid: g) + spectra.power(0, p - i, grid: g)) / total
            xOnly += cx
            yOnly += cy
            if abs(cx - cy) < axisTolerance {
                labels.append(FourierLabel(.axes(i), cx + cy))
            } else {
                labels.append(FourierLabel(.x(i), cx))
                labels.append(FourierLabel(.y(i), cy))
            }
        }
        // Cross terms: P[i, j] = |F[i, j]|, Q[i, j] = |F[i, p − j]| for i, j = 1…(p−1)/2.
        var sPlus = 0.0, sMinus = 0.0, sCC = 0.0, sSS = 0.0
        var pq = [(Double, Double)](repeating: (0, 0), count: h * h)
        for i in 1...h {
            for j in 1...h {
                let pij = spectra.magnitude(i, j, grid: g), qij = spectra.magnitude(i, p - j, grid: g)
                pq[(i - 1) * h + (j - 1)] = (pij, qij)
                sPlus += 2 * pij * pij
                sMinus += 2 * qij * qij
                sCC += (pij + qij) * (pij + qij)
                sSS += (pij - qij) * (pij - qij)
            }
        }
        // 0/0 is NaN and compares false, as in the reference: the product convention then.
        let convention: FourierCrossConvention = sPlus / sMinus > sCC / sSS ? .sumDifference : .product
        for i in 1...h {
            for j in 1...h {
                let (pij, qij) = pq[(i - 1) * h + (j - 1)]
                switch convention {
                case .sumDifference:
                    labels.append(FourierLabel(.sum(i, j), 2 * pij * pij / total))
                    labels.append(FourierLabel(.difference(i, j), 2 * qij * qij / total))
                case .product:
                    labels.append(FourierLabel(.cosCos(i, j), (pij + qij) * (pij + qij) / total))
                    labels.append(FourierLabel(.sinSin(i, j), (pij - qij) * (pij - qij) / total))
                }
            }
        }
        let families = FourierFamilyShares(constant: constant, xOnly: xOnly, yOnly: yOnly, sum: sPlus / total,
                                           difference: sMinus / total, cosCos: sCC / total, sinSin: sSS / total,
                                           convention: convention)
        return (labels, families)
    }

    /// §11's selection: a stable sort by value, descending; walk it, keeping each label and
    /// stopping after the one that brings the running sum above 99.5 % of Σ values or that
    /// itself holds under 0.5 %; keep at most the first 7.
    ///
    /// Only the first 7 of the sorted list can be kept, so this keeps the 7 best in sorted order
    /// (ties in creation order) instead of sorting everything: the result is the same.
    public static func select(_ candidates: [FourierLabel]) -> [FourierLabel] {
        var best: [FourierLabel] = []
        best.reserveCapacity(maximumKept + 1)
        var sum = 0.0
        for c in candidates {
            sum += c.share
            if best.count == maximumKept, c.share <= best[maximumKept - 1].share { continue }
            // After every element of at least its value: a stable descending order.
            var at = best.count
            while at > 0, best[at - 1].share < c.share { at -= 1 }
            best.insert(c, at: at)
            if best.count > maximumKept { best.removeLast() }
        }
        var kept: [FourierLabel] = []
        var running = 0.0
        for c in best {
            running += c.share
            kept.append(c)
            if running / sum > coverage || c.share / sum < smallest { break }
        }
        return kept
    }

    /// The CSV cell: `51% cos(15x) + cos(15y)|34% cos(18x) + cos(18y)|...`.
    public static func cell(_ kept: [FourierLabel]) -> String {
        kept.map { percent($0.share) + "% " + $0.text }.joined(separator: "|")
    }

    /// `100·share` printed as printf's "%.0f": round to nearest, exact binary ties to even.
    public static func percent(_ share: Double) -> String {
        String(format: "%.0f", 100 * share)
    }

    /// Below this share of the total power, non-constant power is round-off: no dominant frequency.
    public static let nonConstantFloor = 1e-9

    /// The frequency k ≥ 1 holding the most power (ties to the smaller k) and its share, when
    /// each entry F[k₁, k₂] counts towards its x frequency and its y frequency, folded to
    /// 1…(p−1)/2 (the zero frequency counts towards nothing). (0, 0) when the non-constant
    /// power is under `nonConstantFloor` of the total.
    public static func dominantFrequency(_ spectra: FourierSpectra, grid g: Int) -> (frequency: Int, share: Double) {
        let p = spectra.p, h = (p - 1) / 2
        var weight = [Double](repeating: 0, count: h + 1)
        for k in 0...h {
            // Row k stands for rows k and p − k, whose columns are mirrored: same folded frequencies.
            let rows: Double = k == 0 ? 1 : 2
            for l in 0..<p {
                let pw = rows * spectra.power(k, l, grid: g)
                let fl = min(l, p - l)
                if k != 0 { weight[k] += pw }
                if fl != 0 { weight[fl] += pw }
            }
        }
        let all = weight.reduce(0, +)
        // Non-constant power at round-off level (a constant feature in float32) has no frequency.
        guard all > nonConstantFloor * spectra.totals[g] else { return (0, 0) }
        var top = 1
        for k in stride(from: 2, through: h, by: 1) where weight[k] > weight[top] { top = k }
        return (top, weight[top] / all)
    }
}

/// Feature activations of a node layer on every input pair, from one float32 forward pass
/// (lib-method.md §11: the float32 model, `f̂ = f·C` with C cast to float32).
public enum PairFeatures {
    /// How the per-position features of a layer with several positions (ln1.0) become one row
    /// per pair: summed (§11's labels) or side by side, position-major.
    public enum Positions: String, Sendable {
        case sum
        case concatenate
    }

    /// The float32 forward pass over all p² pairs in index order (`a·p + b`).
    public static func forward(_ model: FoldedTransformer<Float>, dataset: ModularAdditionDataset) -> TransformerActivations<Float> {
        model.forward((0..<dataset.count).map(dataset.tokens))
    }

    /// The first `count` features (all if nil or more) of `layer` for every pair: `f·C` with
    /// C cast to float32, or the raw activations (the logits for `output`) without a basis.
    /// Rows are pairs in index order.
    public static func features(_ activations: TransformerActivations<Float>, layer: NodeLayerGraph.NodeLayer, basis: InteractionBasis?,
                                count: Int? = nil, positions: Positions = .sum) -> Matrix<Float> {
        let raw = activations[layer]
        let f: Matrix<Float>
        if let basis, basis.kind != .identity {
            precondition(basis.originalDimension == raw.columns, "a basis of \(basis.originalDimension) rows for \(raw.columns) activations")
            let n = min(count ?? basis.keptDimension, basis.keptDimension)
            f = raw * basis.c.columns(0..<n).converted(to: Float.self)
        } else {
            let n = min(count ?? raw.columns, raw.columns)
            f = n == raw.columns ? raw : raw.columns(0..<n)
        }
        let per = layer.positions
        guard per > 1 else { return f }
        let pairs = f.rows / per, n = f.columns
        switch positions {
        case .concatenate:
            // Row-major (pair, position, feature) is already pair × (position, feature).
            return Matrix(rows: pairs, columns: per * n, elements: f.elements)
        case .sum:
            var out = Matrix<Float>(rows: pairs, columns: n)
            f.elements.withUnsafeBufferPointer { src in
                out.elements.withUnsafeMutableBufferPointer { dst in
                    for s in 0..<pairs {
                        let row = dst.baseAddress! + s * n
                        row.update(from: src.baseAddress! + s * per * n, count: n)
                        // In position order, in float32: ((x + y) + z).
                        for q in 1..<per {
                            let r = src.baseAddress! + (s * per + q) * n
                            for j in 0..<n { row[j] += r[j] }
                        }
                    }
                }
            }
            return out
        }
    }
}
