#pragma once
#include <sys/types.h>

// Stage processes are started by a small spawn server: a child of the runner, forked once,
// that never allocates memory and starts each stage with vfork + exec (no copy of the
// runner's page tables per stage). Each stage gets its own process group. The server reports
// each stage's exit status over a pipe the runner gave it, kills whatever the stage left
// behind in its group, and, when the runner dies (its end of the request socket closes), kills
// every stage group it started. So a kill -9 of the runner leaves no orphan, which
// PR_SET_PDEATHSIG alone cannot promise for grandchildren.

typedef struct {
    pid_t child_pid;  // also the stage's process-group id
    int reply_fd;     // read with `cspawn_wait`
} cspawn_handle;

/// Starts `path` with `argv`/`envp` in `cwd`, stdin from /dev/null, stdout and stderr to the
/// given descriptors. Returns 0, or -errno when the request could not be made. Exec failures
/// are reported by `cspawn_wait`.
int cspawn_start(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdout_fd, int stderr_fd, cspawn_handle *out);

/// Blocks until the stage ends. On return `*how` is 0 when `*value` is a wait(2) status and 1
/// when exec failed with errno `*value`; returns 0, or -errno when the server vanished.
int cspawn_wait(cspawn_handle *handle, int *how, int *value);

/// Sends `sig` to the stage's whole process group.
int cspawn_signal_group(const cspawn_handle *handle, int sig);

/// Decoders for wait(2) statuses (the macros do not import into Swift).
int cspawn_exited(int status);
int cspawn_exit_code(int status);
int cspawn_signaled(int status);
int cspawn_term_signal(int status);
