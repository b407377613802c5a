/// Training stopped because the train loss stopped being a number: the weights are NaN or
/// infinite and every stage after this one would compute on them (a far too large learning
/// rate does this within a few steps).
public struct TrainingDiverged: Error, Sendable, CustomStringConvertible {
    public var metrics: TrainingMetrics

    public var description: String {
        "training diverged: the train loss is \(metrics.trainLoss) at epoch \(metrics.epoch) (learning rate \(metrics.learningRate)); lower 'lr'"
    }
}
