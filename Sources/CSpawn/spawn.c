#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------
// Wire format, runner -> server, on a SOCK_STREAM socket:
//   header: uint32 magic, uint32 length   (sent with SCM_RIGHTS: stdout, stderr, reply pipe)
//   body:   path\0 cwd\0 uint32 argc, argv strings\0..., uint32 envc, env strings\0...,
//           uint32 count, read-only paths\0...
// Server -> runner, on the reply pipe:
//   int32 pid, int32 how (0 started, 1 exec failed, 2 refused), int32 value (errno),
//   int32 inputs (CSPAWN_INPUTS_*), int32 inputs errno
//   then, for a started stage: int32 0, int32 wait status
// Child -> server, on a close-on-exec pipe before the exec:
//   int32 inputs, int32 inputs errno, then int32 errno only if the exec failed
// ---------------------------------------------------------------------------------------------

#define MAGIC 0x52554e32u  // "RUN2"
#define MAX_BODY (8u << 20)
#define MAX_CHILDREN 4096
#define MAX_ARGS 65536

// The runner's side: one server at a time, started on first use and again after one died.
static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
static int server_socket = -1;
static pid_t server_pid = 0;

// How the last few servers died, for stages that ask after the fact (`cspawn_server_death`).
#define DEAD_SERVERS 16
static struct { pid_t pid; int status; int error; } dead_servers[DEAD_SERVERS];
static int dead_next = 0;

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

// A one-buffer message with room for `control_size` bytes of ancillary data.
static void init_message(struct msghdr *msg, struct iovec *iov, void *buf, size_t len, char *control, size_t control_size) {
    iov->iov_base = buf;
    iov->iov_len = len;
    memset(msg, 0, sizeof *msg);
    msg->msg_iov = iov;
    msg->msg_iovlen = 1;
    msg->msg_control = control;
    msg->msg_controllen = control_size;
}

// ---------------------------------------------------------------------------------------------
// The server. It is a fork of a multithreaded process and never execs, so it may only make
// async-signal-safe calls: no malloc (static buffers), no stdio, no locks.
// ---------------------------------------------------------------------------------------------

static char body[MAX_BODY];
static char *argv_buf[MAX_ARGS + 1];
static char *envp_buf[MAX_ARGS + 1];
static char *readonly_buf[MAX_ARGS + 1];
static struct { pid_t pid; int reply; } children[MAX_CHILDREN];

static void close_all_but(int keep) {
    if (keep > 3) syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0);
    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0);
}

static void reply5(int fd, int32_t pid, int32_t how, int32_t value, int32_t inputs, int32_t inputs_errno) {
    int32_t msg[5] = {pid, how, value, inputs, inputs_errno};
    write_all(fd, msg, sizeof msg);
}

static void kill_everything_and_exit(void) {
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i].pid > 0) kill(-children[i].pid, SIGKILL);
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i].pid <= 0) continue;
        int st;
        while (waitpid(children[i].pid, &st, 0) < 0 && errno == EINTR) {}
    }
    _exit(0);
}

static void reap(void) {
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0) return;
        kill(-pid, SIGKILL);  // whatever the stage left running in its group
        for (int i = 0; i < MAX_CHILDREN; i++) {
            if (children[i].pid != pid) continue;
            int32_t msg[2] = {0, (int32_t)st};
            write_all(children[i].reply, msg, sizeof msg);
            close(children[i].reply);
            children[i].pid = 0;
            break;
        }
    }
}

// Parses `body` into the static argv/envp/read-only arrays; returns 0 or an errno.
static int parse_body(uint32_t length, char **path, char **cwd) {
    char *p = body, *end = body + length;
    *path = p;
    p = memchr(p, 0, (size_t)(end - p));
    if (!p) return EINVAL;
    *cwd = ++p;
    p = memchr(p, 0, (size_t)(end - p));
    if (!p) return EINVAL;
    p++;
    char **lists[3] = {argv_buf, envp_buf, readonly_buf};
    for (int l = 0; l < 3; l++) {
        uint32_t count;
        if (end - p < 4) return EINVAL;
        memcpy(&count, p, 4);
        p += 4;
        if (count > MAX_ARGS) return E2BIG;
        for (uint32_t i = 0; i < count; i++) {
            lists[l][i] = p;
            p = memchr(p, 0, (size_t)(end - p));
            if (!p) return EINVAL;
            p++;
        }
        lists[l][count] = NULL;
    }
    return 0;
}

// --- Read-only inputs, in the stage's child between vfork and exec ---------------------------
// Everything here runs in a vfork child of the server: system calls and stack buffers only.

static void write_text(int fd, const char *text) { write_all(fd, text, strlen(text)); }

// `value` in decimal into `buf` (at least 12 bytes); returns the end of the digits.
static char *format_unsigned(char *buf, unsigned long value) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (n) *buf++ = digits[--n];
    *buf = 0;
    return buf;
}

// The symbolic name of the errnos a namespace or mount can fail with ("errno N" otherwise).
static const char *errno_name(int e, char *buf) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENOSYS: return "ENOSYS";
    case EBUSY: return "EBUSY";
    case ENOTDIR: return "ENOTDIR";
    case ENOMEM: return "ENOMEM";
    case EUSERS: return "EUSERS";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EOVERFLOW: return "EOVERFLOW";
    case EROFS: return "EROFS";
    default:
        memcpy(buf, "errno ", 6);
        format_unsigned(buf + 6, (unsigned long)e);
        return buf;
    }
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int e = n == (ssize_t)len ? 0 : (n < 0 ? errno : EIO);
    close(fd);
    return e;
}

// In a fresh user namespace: maps the user's own uid and gid onto themselves, so the stage
// keeps its identity (and can create files). Returns 0 or an errno.
static int map_own_ids(uid_t uid, gid_t gid) {
    char line[64];
    char *p = format_unsigned(line, uid);
    *p++ = ' ';
    p = format_unsigned(p, uid);
    memcpy(p, " 1\n", 4);
    int e = write_file("/proc/self/uid_map", line);
    if (e) return e;
    // An unprivileged process may map its gid only after giving up setgroups (Linux >= 3.19).
    e = write_file("/proc/self/setgroups", "deny");
    if (e && e != ENOENT) return e;
    p = format_unsigned(line, gid);
    *p++ = ' ';
    p = format_unsigned(p, gid);
    memcpy(p, " 1\n", 4);
    return write_file("/proc/self/gid_map", line);
}

// statfs(2) f_flags bits (linux/statfs.h); their MS_* counterparts differ for relatime.
#define KST_NOSUID 0x0002
#define KST_NODEV 0x0004
#define KST_NOEXEC 0x0008
#define KST_VALID 0x0020
#define KST_NOATIME 0x0400
#define KST_NODIRATIME 0x0800
#define KST_RELATIME 0x1000

// Binds `path` onto itself and makes that mount read-only. The remount keeps the flags the
// mount already had (nosuid, nodev, noexec, atime): in a user namespace they are locked and
// a remount that drops one fails with EPERM. Returns 0 or an errno.
static int bind_read_only(const char *path) {
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) return errno;
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
    struct statfs st;
    if (statfs(path, &st) == 0 && (st.f_flags & KST_VALID)) {
        if (st.f_flags & KST_NOSUID) flags |= MS_NOSUID;
        if (st.f_flags & KST_NODEV) flags |= MS_NODEV;
        if (st.f_flags & KST_NOEXEC) flags |= MS_NOEXEC;
        if (st.f_flags & KST_NOATIME) flags |= MS_NOATIME;
        if (st.f_flags & KST_NODIRATIME) flags |= MS_NODIRATIME;
        if (st.f_flags & KST_RELATIME) flags |= MS_RELATIME;
    }
    if (mount(NULL, path, NULL, flags, NULL) != 0) return errno;
    return 0;
}

// Makes every path in `paths` read-only for this process (and what it execs) in a private
// mount namespace, and writes one `# inputs: ...` line to `log` saying what it did. Returns a
// CSPAWN_INPUTS_* value and sets `*err` for the failures.
static int protect_inputs(char *const paths[], int log, int *err) {
    char name[24], name2[24];
    *err = 0;
    int mode;
    const char *how;
    if (unshare(CLONE_NEWNS) == 0) {
        mode = CSPAWN_INPUTS_MOUNT_NAMESPACE;
        how = "private mount namespace";
    } else {
        // Without CAP_SYS_ADMIN: a user namespace owned by this user gives it one.
        int mount_errno = errno;
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            int user_errno = errno;
            *err = mount_errno;
            write_text(log, "# inputs: not protected (no mount namespace: ");
            write_text(log, errno_name(mount_errno, name));
            write_text(log, "; no user namespace: ");
            write_text(log, errno_name(user_errno, name2));
            write_text(log, ")\n");
            return CSPAWN_INPUTS_UNPROTECTED;
        }
        int e = map_own_ids(uid, gid);
        if (e) {
            // Past the point of return: unmapped, the stage could not even create a file.
            *err = e;
            write_text(log, "# inputs: cannot map the user's ids in a user namespace (");
            write_text(log, errno_name(e, name));
            write_text(log, "); the stage was not started\n");
            return CSPAWN_INPUTS_FAILED;
        }
        mode = CSPAWN_INPUTS_USER_NAMESPACE;
        how = "private user and mount namespace";
    }
    // Nothing mounted here may reach the runner's namespace: a shared / would carry the
    // read-only binds back out. Slave still lets mounts made outside come in.
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) {
        *err = errno;
        write_text(log, "# inputs: not protected (cannot make the mounts private: ");
        write_text(log, errno_name(*err, name));
        write_text(log, ")\n");
        return CSPAWN_INPUTS_UNPROTECTED;
    }
    const char *failed = NULL;
    for (char *const *p = paths; *p; p++) {
        int e = bind_read_only(*p);
        if (e && !failed) {
            failed = *p;
            *err = e;
        }
    }
    if (failed) {
        write_text(log, "# inputs: not all read-only (");
        write_text(log, how);
        write_text(log, "): cannot bind ");
        write_text(log, failed);
        write_text(log, " read-only: ");
        write_text(log, errno_name(*err, name));
        write_text(log, "\n");
        return CSPAWN_INPUTS_PARTIAL;
    }
    write_text(log, "# inputs: read-only (");
    write_text(log, how);
    write_text(log, ")\n");
    return mode;
}

struct child_request {
    const char *path, *cwd;
    int out_fd, err_fd, report_fd;
    pid_t server;
    const sigset_t *mask;
};

// The stage's side of the vfork: it shares the server's memory until it execs, so it only
// reads the request, uses its own stack, and never returns.
__attribute__((noreturn)) static void run_child(const struct child_request *r) {
    setpgid(0, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
    sigprocmask(SIG_SETMASK, r->mask, NULL);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(r->out_fd, 1);
    dup2(r->err_fd, 2);
    int e = 0;
    if (r->cwd[0] && chdir(r->cwd) != 0) e = errno;
    int32_t inputs[2] = {CSPAWN_INPUTS_NONE, 0};
    if (!e && readonly_buf[0]) {
        int err = 0;
        inputs[0] = protect_inputs(readonly_buf, 1, &err);
        inputs[1] = err;
        if (inputs[0] == CSPAWN_INPUTS_FAILED) e = err;
    }
    write_all(r->report_fd, inputs, sizeof inputs);
    if (!e) {
        // Die with the server: a kill -9 of it must not leave the stage running. Set last, as
        // credential changes clear it; if the server already died, getppid() shows it.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != r->server) _exit(127);
        syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
        execve(r->path, argv_buf, envp_buf);
        e = errno;
    }
    write_all(r->report_fd, &e, sizeof e);
    _exit(127);
}

static void spawn_one(int out_fd, int err_fd, int reply, uint32_t length, const sigset_t *original_mask) {
    char *path = "", *cwd = "";
    int bad = parse_body(length, &path, &cwd);
    int slot = -1;
    for (int i = 0; i < MAX_CHILDREN && slot < 0; i++)
        if (children[i].pid == 0) slot = i;
    if (bad || slot < 0) {
        reply5(reply, -1, 2, bad ? bad : EAGAIN, 0, 0);
        close(reply);
        return;
    }
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        reply5(reply, -1, 2, errno, 0, 0);
        close(reply);
        return;
    }
    struct child_request request = {path, cwd, out_fd, err_fd, report[1], getpid(), original_mask};
    // vfork: the child borrows this (small) process's memory until it execs or exits.
    pid_t pid = vfork();
    if (pid == 0) run_child(&request);
    close(report[1]);
    if (pid < 0) {
        int e = errno;
        close(report[0]);
        reply5(reply, -1, 2, e, 0, 0);
        close(reply);
        return;
    }
    setpgid(pid, pid);
    int32_t outcome[3] = {CSPAWN_INPUTS_NONE, 0, 0};
    ssize_t n = read_all(report[0], outcome, sizeof outcome);
    close(report[0]);
    if (n != (ssize_t)(2 * sizeof(int32_t))) {
        // The exec failed (or the child died before it): there is no stage to watch.
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        reply5(reply, pid, 1, n == (ssize_t)sizeof outcome ? outcome[2] : EIO, outcome[0], outcome[1]);
        close(reply);
        return;
    }
    children[slot].pid = pid;
    children[slot].reply = reply;
    reply5(reply, pid, 0, 0, outcome[0], outcome[1]);
}

// Gives the server its own name: it is a fork of the runner and never execs, so it would
// otherwise show the runner's command line and match `pkill -f 'runner run'`. The argv block
// (its bounds are fields 48 and 49 of /proc/self/stat) is overwritten in place.
static char stat_text[4096];
static void name_server(void) {
    prctl(PR_SET_NAME, "runner-spawner");
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read_all(fd, stat_text, sizeof stat_text - 1);
    close(fd);
    if (n <= 0) return;
    stat_text[n] = 0;
    char *p = strrchr(stat_text, ')');  // the comm may itself hold spaces and parentheses
    if (!p) return;
    p++;
    unsigned long bounds[2] = {0, 0};
    for (int field = 3; field <= 49; field++) {
        while (*p == ' ') p++;
        if (!*p) return;
        unsigned long value = 0;
        for (; *p >= '0' && *p <= '9'; p++) value = value * 10 + (unsigned long)(*p - '0');
        if (field >= 48) bounds[field - 48] = value;
        while (*p && *p != ' ') p++;
    }
    char *start = (char *)bounds[0], *end = (char *)bounds[1];
    if (!start || end <= start) return;
    static const char name[] = "runner-spawn-server";
    size_t room = (size_t)(end - start);
    if (room < 2) return;
    size_t len = sizeof name - 1 < room - 1 ? sizeof name - 1 : room - 1;
    memset(start, 0, room);
    memcpy(start, name, len);
    // A last byte that is not NUL tells the kernel the block was rewritten (as setproctitle
    // does): it then shows the text up to the first NUL, not the trailing empty arguments.
    if (len + 1 < room) end[-1] = ' ';
}

static void serve(int sock, const sigset_t *original_mask) {
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ign, NULL);
    sigaction(SIGTERM, &ign, NULL);
    sigaction(SIGHUP, &ign, NULL);
    sigaction(SIGQUIT, &ign, NULL);
    sigaction(SIGPIPE, &ign, NULL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

    for (;;) {
        struct pollfd fds[2] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(fds, sfd >= 0 ? 2 : 1, sfd >= 0 ? -1 : 50) < 0 && errno != EINTR) kill_everything_and_exit();
        if (sfd >= 0 && fds[1].revents) {
            struct signalfd_siginfo info;
            while (read(sfd, &info, sizeof info) > 0) {}
        }
        reap();
        if (!fds[0].revents) continue;

        uint32_t header[2];
        char control[CMSG_SPACE(3 * sizeof(int))];
        struct iovec iov;
        struct msghdr msg;
        init_message(&msg, &iov, header, sizeof header, control, sizeof control);
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
        if (n < 0 && errno == EINTR) continue;
        // The runner is gone (or spoke nonsense): take every stage down with it.
        if (n != (ssize_t)sizeof header || header[0] != MAGIC) kill_everything_and_exit();
        int fdv[3] = {-1, -1, -1};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(3 * sizeof(int)))
            memcpy(fdv, CMSG_DATA(c), sizeof fdv);
        uint32_t length = header[1];
        if (length > MAX_BODY) kill_everything_and_exit();
        if (read_all(sock, body, length) != (ssize_t)length) kill_everything_and_exit();
        if (fdv[0] < 0 || fdv[1] < 0 || fdv[2] < 0) {
            for (int i = 0; i < 3; i++) if (fdv[i] >= 0) close(fdv[i]);
            continue;
        }
        spawn_one(fdv[0], fdv[1], fdv[2], length, original_mask);
        close(fdv[0]);
        close(fdv[1]);
    }
}

// ---------------------------------------------------------------------------------------------
// The runner's side.
// ---------------------------------------------------------------------------------------------

// At the runner's exit: ends the server and waits for it, so a runner that has exited has
// no server left winding down. The server is a fork of the runner and keeps its memory maps
// (the ledger's SQLite -shm file among them), which kept the workspace's file system busy for
// a moment after the runner's exit. No lock: another thread may hold it as the process exits.
static void stop_server_at_exit(void) {
    int sock = server_socket;
    pid_t pid = server_pid;
    if (sock < 0 || pid <= 0) return;
    shutdown(sock, SHUT_RDWR);  // the server reads EOF, kills what is left and exits
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
}

// Starts a server; the caller holds server_lock. Returns 0 or an errno.
static int start_server_locked(void) {
    static int registered = 0;
    if (!registered) registered = atexit(stop_server_at_exit) == 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return errno;
    sigset_t original;
    sigprocmask(SIG_SETMASK, NULL, &original);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return e;
    }
    if (pid == 0) {
        // Drop every descriptor the runner had (the workspace lock among them) but our socket.
        int keep = sv[1];
        close_all_but(keep);
        // Nor keep the runner's directory busy: a workspace on its own file system must be
        // unmountable once the runner has exited, even while the server is still winding down.
        // Every request names its directory.
        if (chdir("/") != 0) {}
        name_server();
        serve(keep, &original);
        _exit(0);
    }
    close(sv[1]);
    server_socket = sv[0];
    server_pid = pid;
    return 0;
}

// Whether the server closed its end of the socket (it never writes, so readable means EOF):
// it only does that by exiting.
static int server_gone_locked(void) {
    struct pollfd p = {server_socket, POLLIN, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

// Forgets the dead server and reaps it, keeping its status; the caller holds server_lock. Its
// socket has closed, so it has exited or is about to (after reaping what it started).
static void bury_server_locked(void) {
    close(server_socket);
    server_socket = -1;
    int st = 0, e = 0;
    pid_t r;
    while ((r = waitpid(server_pid, &st, 0)) < 0 && errno == EINTR) {}
    if (r < 0) e = errno;
    dead_servers[dead_next].pid = server_pid;
    dead_servers[dead_next].status = st;
    dead_servers[dead_next].error = e;
    dead_next = (dead_next + 1) % DEAD_SERVERS;
    server_pid = 0;
}

int cspawn_start(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 char *const readonly[], int stdout_fd, int stderr_fd, cspawn_handle *out) {
    memset(out, 0, sizeof *out);
    out->reply_fd = -1;
    // The server runs in /, so "here" means the runner's directory, resolved now.
    char here[4096];
    if (!cwd || !cwd[0]) {
        if (!getcwd(here, sizeof here)) return -errno;
        cwd = here;
    }
    size_t length = strlen(path) + 1 + strlen(cwd) + 1 + 12;
    uint32_t argc = 0, envc = 0, roc = 0;
    while (argv[argc]) length += strlen(argv[argc++]) + 1;
    while (envp[envc]) length += strlen(envp[envc++]) + 1;
    while (readonly && readonly[roc]) length += strlen(readonly[roc++]) + 1;
    if (length > MAX_BODY || argc > MAX_ARGS || envc > MAX_ARGS || roc > MAX_ARGS) return -E2BIG;
    char *buf = malloc(length);
    if (!buf) return -ENOMEM;
    char *p = buf;
    size_t l = strlen(path) + 1;
    memcpy(p, path, l);
    p += l;
    l = strlen(cwd) + 1;
    memcpy(p, cwd, l);
    p += l;
    char *const *lists[3] = {argv, envp, readonly};
    uint32_t counts[3] = {argc, envc, roc};
    for (int k = 0; k < 3; k++) {
        memcpy(p, &counts[k], 4);
        p += 4;
        for (uint32_t i = 0; i < counts[k]; i++) {
            l = strlen(lists[k][i]) + 1;
            memcpy(p, lists[k][i], l);
            p += l;
        }
    }

    int reply[2];
    if (pipe2(reply, O_CLOEXEC) != 0) {
        int e = errno;
        free(buf);
        return -e;
    }
    uint32_t header[2] = {MAGIC, (uint32_t)length};
    int fdv[3] = {stdout_fd, stderr_fd, reply[1]};
    char control[CMSG_SPACE(sizeof fdv)];
    memset(control, 0, sizeof control);
    struct iovec iov;
    struct msghdr msg;
    init_message(&msg, &iov, header, sizeof header, control, sizeof control);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fdv);
    memcpy(CMSG_DATA(c), fdv, sizeof fdv);

    pthread_mutex_lock(&server_lock);
    // A server that died between stages is replaced before anything is sent to it.
    if (server_socket >= 0 && server_gone_locked()) bury_server_locked();
    int e = server_socket < 0 ? start_server_locked() : 0;
    out->server_pid = server_pid;
    if (!e) {
        ssize_t sent;
        do {
            sent = sendmsg(server_socket, &msg, MSG_NOSIGNAL);
        } while (sent < 0 && errno == EINTR);
        e = sent == (ssize_t)sizeof header ? 0 : (sent < 0 ? errno : EPIPE);
    }
    if (!e) {
        const char *q = buf;
        size_t left = length;
        while (left > 0) {
            ssize_t n = send(server_socket, q, left, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                e = errno;
                break;
            }
            q += n;
            left -= (size_t)n;
        }
    }
    pthread_mutex_unlock(&server_lock);
    free(buf);
    close(reply[1]);
    if (e) {
        close(reply[0]);
        return -(e == ECONNRESET ? EPIPE : e);
    }
    int32_t first[5];
    if (read_all(reply[0], first, sizeof first) != (ssize_t)sizeof first) {
        close(reply[0]);
        return -EPIPE;
    }
    out->inputs = first[3];
    out->inputs_errno = first[4];
    if (first[1] == 2) {
        close(reply[0]);
        return -first[2];
    }
    out->child_pid = first[0];
    out->reply_fd = reply[0];
    if (first[1] == 1) {
        // Exec failed: leave the errno where cspawn_wait will find it.
        out->child_pid = -first[2];
    }
    return 0;
}

int cspawn_wait(cspawn_handle *h, int *how, int *value) {
    if (h->child_pid <= 0) {
        *how = 1;
        *value = -h->child_pid;
        close(h->reply_fd);
        h->reply_fd = -1;
        return 0;
    }
    int32_t msg[2];
    ssize_t n = read_all(h->reply_fd, msg, sizeof msg);
    close(h->reply_fd);
    h->reply_fd = -1;
    if (n != (ssize_t)sizeof msg) return -EPIPE;
    *how = msg[0];
    *value = msg[1];
    return 0;
}

int cspawn_server_death(const cspawn_handle *h, int *status) {
    int r = -ESRCH;
    pthread_mutex_lock(&server_lock);
    if (h->server_pid > 0 && h->server_pid == server_pid) bury_server_locked();
    for (int i = 0; i < DEAD_SERVERS; i++) {
        if (dead_servers[i].pid != h->server_pid || h->server_pid <= 0) continue;
        *status = dead_servers[i].status;
        r = dead_servers[i].error ? -dead_servers[i].error : 0;
    }
    pthread_mutex_unlock(&server_lock);
    return r;
}

int cspawn_signal_group(const cspawn_handle *h, int sig) {
    if (h->child_pid <= 0) return -ESRCH;
    return kill(-h->child_pid, sig) == 0 ? 0 : -errno;
}

int cspawn_exited(int status) { return WIFEXITED(status); }
int cspawn_exit_code(int status) { return WEXITSTATUS(status); }
int cspawn_signaled(int status) { return WIFSIGNALED(status); }
int cspawn_term_signal(int status) { return WTERMSIG(status); }
