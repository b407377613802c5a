#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int lifeline_read = -1;
static int lifeline_write = -1;

int cspawn_lifeline_init(void) {
    if (lifeline_read >= 0) return 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
    lifeline_read = fds[0];
    lifeline_write = fds[1];
    return 0;
}

// Everything below runs in a forked child of a multithreaded process: only async-signal-safe
// calls (no malloc, no stdio, no locks).

static void write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

static ssize_t read_all(int fd, void *buf, size_t len) {
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static void reset_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        sigaction(s, &sa, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

// Closes every descriptor >= 3 except the (ascending) ones in `keep`.
static void close_others(const int *keep, int count) {
    unsigned int from = 3;
    for (int i = 0; i < count; i++) {
        if (keep[i] < 3) continue;
        if ((unsigned int)keep[i] > from) syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
        from = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

static void sort_small(int *a, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
            int t = a[j]; a[j] = a[j - 1]; a[j - 1] = t;
        }
}

static void supervise(const char *path, char *const argv[], char *const envp[], const char *cwd,
                      int out_fd, int err_fd, int status_w) {
    // Ignore terminal signals: the runner decides what the stage gets.
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ign, NULL);
    sigaction(SIGTERM, &ign, NULL);
    sigaction(SIGHUP, &ign, NULL);
    sigaction(SIGQUIT, &ign, NULL);
    sigaction(SIGPIPE, &ign, NULL);

    int keep[4] = {lifeline_read, status_w, out_fd, err_fd};
    sort_small(keep, 4);
    close_others(keep, 4);

    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        int32_t msg[3] = {-1, 1, errno};
        write_all(status_w, msg, sizeof msg);
        _exit(0);
    }
    pid_t child = fork();
    if (child < 0) {
        int32_t msg[3] = {-1, 1, errno};
        write_all(status_w, msg, sizeof msg);
        _exit(0);
    }
    if (child == 0) {
        setpgid(0, 0);
        reset_signals();
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        // Mark everything else close-on-exec; errpipe's write end then reports exec failure.
        syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
        if (cwd && chdir(cwd) != 0) {
            int e = errno;
            write_all(errpipe[1], &e, sizeof e);
            _exit(127);
        }
        execve(path, argv, envp);
        int e = errno;
        write_all(errpipe[1], &e, sizeof e);
        _exit(127);
    }
    setpgid(child, child);
    close(errpipe[1]);
    int exec_errno = 0;
    ssize_t n = read_all(errpipe[0], &exec_errno, sizeof exec_errno);
    close(errpipe[0]);
    if (n == (ssize_t)sizeof exec_errno) {
        int st;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
        int32_t msg[3] = {(int32_t)child, 1, exec_errno};
        write_all(status_w, msg, sizeof msg);
        _exit(0);
    }
    int32_t started = (int32_t)child;
    write_all(status_w, &started, sizeof started);

    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    for (;;) {
        struct pollfd fds[2];
        fds[0].fd = lifeline_read;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fds[1].fd = pidfd;
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        int timeout = pidfd >= 0 ? -1 : 20;
        int r = poll(fds, pidfd >= 0 ? 2 : 1, timeout);
        if (r < 0 && errno != EINTR) break;
        if (fds[0].revents) {
            // The runner is gone: take the whole stage down with it.
            kill(-child, SIGKILL);
            int st;
            while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
            _exit(0);
        }
        int st;
        pid_t w = waitpid(child, &st, WNOHANG);
        if (w == child) {
            kill(-child, SIGKILL);  // stragglers the stage left in its group
            int32_t msg[2] = {0, (int32_t)st};
            write_all(status_w, msg, sizeof msg);
            _exit(0);
        }
    }
    _exit(0);
}

int cspawn_start(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdout_fd, int stderr_fd, cspawn_handle *out) {
    if (lifeline_read < 0) {
        int r = cspawn_lifeline_init();
        if (r != 0) return r;
    }
    int status[2];
    if (pipe2(status, O_CLOEXEC) != 0) return -errno;
    pid_t sup = fork();
    if (sup < 0) {
        int e = errno;
        close(status[0]);
        close(status[1]);
        return -e;
    }
    if (sup == 0) {
        close(lifeline_write);
        close(status[0]);
        supervise(path, argv, envp, cwd, stdout_fd, stderr_fd, status[1]);
        _exit(0);
    }
    close(status[1]);
    int32_t first;
    ssize_t n = read_all(status[0], &first, sizeof first);
    out->supervisor_pid = sup;
    out->status_fd = status[0];
    out->child_pid = n == (ssize_t)sizeof first ? first : -1;
    return 0;
}

int cspawn_wait(cspawn_handle *h, int *how, int *value) {
    int32_t msg[2];
    ssize_t n = read_all(h->status_fd, msg, sizeof msg);
    close(h->status_fd);
    h->status_fd = -1;
    int st;
    while (waitpid(h->supervisor_pid, &st, 0) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof msg) return -EPIPE;
    *how = msg[0];
    *value = msg[1];
    return 0;
}

int cspawn_signal_group(const cspawn_handle *h, int sig) {
    if (h->child_pid <= 0) return -ESRCH;
    return kill(-h->child_pid, sig) == 0 ? 0 : -errno;
}

int cspawn_exited(int status) { return WIFEXITED(status); }
int cspawn_exit_code(int status) { return WEXITSTATUS(status); }
int cspawn_signaled(int status) { return WIFSIGNALED(status); }
int cspawn_term_signal(int status) { return WTERMSIG(status); }
