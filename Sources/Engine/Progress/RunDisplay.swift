import Foundation

/// One thing that happened during a run, for the display.
public enum RunEvent: Sendable {
    case cached(instance: Int)
    case started(instance: Int)
    case finished(instance: Int, seconds: Double)
    case failed(instance: Int, reason: String, log: String?)
    case skipped(instance: Int, reason: String)
    case message(String)
}

/// A running instance's live state, for displays that redraw.
public struct RunningState: Sendable {
    public var instance: Int
    public var started: Date
    public var fraction: Double?
    public var message: String
}

/// Shows a run's progress. Called from the scheduler's thread only.
public protocol RunDisplay: AnyObject {
    func begin(_ pipeline: Pipeline, runID: String)
    func handle(_ event: RunEvent)
    /// Called about ten times a second with what is running.
    func refresh(_ running: [RunningState])
    func end(_ summary: RunSummary)
    /// Whether `refresh` wants progress files polled.
    var wantsProgress: Bool { get }
}
