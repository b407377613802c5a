import Foundation

/// The `sh` script one Slurm job runs: it sets the stage's environment, runs the same argv the
/// local executor would (in its own process group, so a signal reaches everything the stage
/// started), and writes the stage's exit status to the exit file atomically (tmp + mv). The
/// runner decides completion from that file, never from Slurm accounting.
enum SlurmBatchScript {
    /// With `forwardsWarning`, USR1 (Slurm's warning before the time limit, asked for with
    /// `--signal=B:USR1@secs`) stops the stage like TERM, and the exit file notes `time-limit`
    /// after the status so the runner knows to resubmit. Without it USR1 is ignored: a stage
    /// that cannot checkpoint is better off using its last minutes (and is not warned at all).
    static func text(argv: [String], environment: [String: String], directory: String, exitFile: String, comment: String,
                     forwardsWarning: Bool = false) -> String {
        var lines = [
            "#!/bin/sh",
            "# \(comment.replacingOccurrences(of: "\n", with: " "))",
            "# Written by runner's Slurm executor: runs one stage attempt and records its exit status.",
        ]
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where exported(name) {
            lines.append("export \(name)=\(quote(value))")
        }
        let tmp = exitFile + ".tmp"
        lines += [
            "finish() { printf '%s%s\\n' \"$1\" \"${warned:+ time-limit}\" > \(quote(tmp)) && mv -f \(quote(tmp)) \(quote(exitFile)); exit \"$1\"; }",
            "echo \"# slurm: job $SLURM_JOB_ID started on $(hostname -s) at $(date -u +%Y-%m-%dT%H:%M:%SZ)\"",
            "cd \(quote(directory)) || { echo \"# slurm: cannot enter the workspace \(directory.replacingOccurrences(of: "\"", with: "'"))\"; finish 126; }",
            // TERM (scancel, the time limit) goes to the stage's whole group; so does USR1 (the
            // warning before the time limit) for stages that checkpoint on SIGTERM.
            "child=; stopped=; warned=",
            // (dash's kill takes no `--`; a negative pid is the group.)
            "trap 'stopped=1; [ -n \"$child\" ] && kill -TERM \"-$child\" 2>/dev/null' TERM",
        ]
        if forwardsWarning {
            lines.append("trap 'warned=1; echo \"# slurm: the time limit is near: stopping the stage so it checkpoints\"; "
                         + "[ -n \"$child\" ] && kill -TERM \"-$child\" 2>/dev/null' USR1")
        }
        lines += [
            "setsid \(argv.map(quote).joined(separator: " ")) </dev/null &",
            "child=$!",
            "wait \"$child\"; status=$?",
            // A trapped signal interrupts `wait`; wait again until the stage has really ended.
            "while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; status=$?; done",
            // A stage told to stop (scancel, the time limit) has not finished, even if a shell
            // in it carried on after its child was killed and exited 0: as when the local
            // executor signals the stage's group, it counts as killed by SIGTERM.
            "if [ -n \"$stopped\" ] && [ \"$status\" = 0 ]; then status=143; fi",
            "finish \"$status\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Variables the script sets. Slurm's own describe the runner's allocation, not the job's;
    /// the shell's bookkeeping ones would be wrong on the node.
    static func exported(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && CharacterSet.letters.contains(first)) else { return false }
        guard name.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) }) else { return false }
        if name.hasPrefix("SLURM_") || name.hasPrefix("SBATCH_") { return false }
        return !["_", "PWD", "OLDPWD", "SHLVL", "HOSTNAME"].contains(name)
    }

    /// A single-quoted shell word.
    static func quote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
