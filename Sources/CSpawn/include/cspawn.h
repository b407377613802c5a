#pragma once
#include <sys/types.h>

// Stage processes are started by a small spawn server: a child of the runner, forked once,
// that never allocates memory and starts each stage with vfork + exec (no copy of the
// runner's page tables per stage). Each stage gets its own process group. The server reports
// each stage's exit status over a pipe the runner gave it, kills whatever the stage left
// behind in its group, and, when the runner dies (its end of the request socket closes), kills
// every stage group it started. So a kill -9 of the runner leaves no orphan, which
// PR_SET_PDEATHSIG alone cannot promise for grandchildren.
//
// The other way round, a kill -9 of the server: every stage has PR_SET_PDEATHSIG(SIGKILL)
// towards the server, and the runner, seeing a stage's reply pipe close without a status,
// kills that stage's process group (`cspawn_signal_group`) and learns how the server died
// (`cspawn_server_death`). The next `cspawn_start` starts a new server.
//
// The server names itself `runner-spawn-server` (its /proc/PID/cmdline; its comm is
// `runner-spawner`), so `pkill -f 'runner run'` does not match it.

typedef struct {
    pid_t child_pid;   // also the stage's process-group id
    int reply_fd;      // read with `cspawn_wait`
    pid_t server_pid;  // the server that started it, for `cspawn_server_death`
    int inputs;        // a CSPAWN_INPUTS_* value: what became of the read-only paths
    int inputs_errno;  // why, for CSPAWN_INPUTS_UNPROTECTED, _PARTIAL and _FAILED
} cspawn_handle;

/// What the stage's child did with the read-only paths of its request.
enum {
    /// No read-only paths were asked for.
    CSPAWN_INPUTS_NONE = 0,
    /// Bound read-only in a private mount namespace.
    CSPAWN_INPUTS_MOUNT_NAMESPACE = 1,
    /// Bound read-only in a private mount namespace inside a user namespace that maps the
    /// user's own uid and gid (for a user without CAP_SYS_ADMIN).
    CSPAWN_INPUTS_USER_NAMESPACE = 2,
    /// Neither namespace could be had: the stage runs with its inputs writable.
    CSPAWN_INPUTS_UNPROTECTED = 3,
    /// Some paths could not be bound read-only.
    CSPAWN_INPUTS_PARTIAL = 4,
    /// A user namespace was entered but the uid or gid could not be mapped; the stage was not
    /// started (it could not create a file).
    CSPAWN_INPUTS_FAILED = 5,
};

/// Starts `path` with `argv`/`envp` in `cwd` (NULL or "": the caller's directory), stdin from /dev/null, stdout and stderr to the
/// given descriptors. `readonly` (NULL-terminated, may be NULL) lists paths the stage must not
/// change: the child binds each onto itself read-only in a private mount namespace and writes
/// one `# inputs: ...` line saying so (or why not) to `stdout_fd` before it execs.
/// Returns 0, or -errno when the request could not be made (-EPIPE when the server died:
/// ask `cspawn_server_death`). Exec failures are reported by `cspawn_wait`.
int cspawn_start(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 char *const readonly[], int stdout_fd, int stderr_fd, cspawn_handle *out);

/// Blocks until the stage ends. On return `*how` is 0 when `*value` is a wait(2) status and 1
/// when exec failed with errno `*value`; returns 0, or -EPIPE when the server died first.
int cspawn_wait(cspawn_handle *handle, int *how, int *value);

/// After -EPIPE from `cspawn_start` or `cspawn_wait`: reaps the handle's server (once; a later
/// `cspawn_start` starts a new one) and stores its wait(2) status. Returns 0, or -errno when
/// its status cannot be known (-ECHILD: someone else reaped it).
int cspawn_server_death(const cspawn_handle *handle, int *status);

/// Sends `sig` to the stage's whole process group.
int cspawn_signal_group(const cspawn_handle *handle, int sig);

/// Decoders for wait(2) statuses (the macros do not import into Swift).
int cspawn_exited(int status);
int cspawn_exit_code(int status);
int cspawn_signaled(int status);
int cspawn_term_signal(int status);
