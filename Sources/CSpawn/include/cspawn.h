#pragma once
#include <sys/types.h>

// A stage process is started under a tiny supervisor process (a fork of the runner that never
// execs). The supervisor puts the stage in its own process group, forwards its exit status over
// a pipe, kills any stragglers left in the group when the stage ends, and kills the whole group
// when the runner dies (it watches a "lifeline" pipe whose only writer is the runner). So a
// kill -9 of the runner leaves no orphan, which PR_SET_PDEATHSIG alone cannot promise for
// grandchildren.

/// Creates the process-wide lifeline pipe. Call once before the first `cspawn_start`.
/// Returns 0 or -errno.
int cspawn_lifeline_init(void);

typedef struct {
    pid_t supervisor_pid;
    pid_t child_pid;      // also the stage's process-group id
    int status_fd;        // read with `cspawn_wait`
} cspawn_handle;

/// Starts `path` with `argv`/`envp` in `cwd`, stdin from /dev/null, stdout and stderr to the
/// given descriptors. Returns 0 or -errno (fork or pipe failure). Exec failures are reported by
/// `cspawn_wait`.
int cspawn_start(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdout_fd, int stderr_fd, cspawn_handle *out);

/// Blocks until the stage ends. On return `*how` is 0 when `*value` is a wait(2) status and 1
/// when exec failed with errno `*value`; returns 0, or -errno when the supervisor vanished
/// (the handle's descriptors are closed either way).
int cspawn_wait(cspawn_handle *handle, int *how, int *value);

/// Sends `sig` to the stage's whole process group.
int cspawn_signal_group(const cspawn_handle *handle, int sig);

/// Decoders for wait(2) statuses (the macros do not import into Swift).
int cspawn_exited(int status);
int cspawn_exit_code(int status);
int cspawn_signaled(int status);
int cspawn_term_signal(int status);
