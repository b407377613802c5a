import Engine

public extension KindRegistry {
    /// Every stage kind this build of runner knows.
    static let standard = KindRegistry([
        CommandStage(),
        DatasetStage(),
        ImportCheckpointStage(),
        TrainStage(),
        EvaluateStage(),
        ExportStage(),
        CollectStage(),
        FitBasisStage(),
        EdgesStage(),
        CombineStage(),
        AblateStage(),
        ProbeStage(),
        ClusterStage(),
        ReportStage(),
    ])
}
