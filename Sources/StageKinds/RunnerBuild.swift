/// The runner version recorded in artefacts the stage kinds write.
public enum RunnerBuild {
    public static let version = "0.1.0"
}
