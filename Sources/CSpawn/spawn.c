#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------
// Wire format, runner -> server, on a SOCK_STREAM socket:
//   header: uint32 magic, uint32 length   (sent with SCM_RIGHTS: stdout, stderr, reply pipe)
//   body:   path\0 cwd\0 uint32 argc, argv strings\0..., uint32 envc, env strings\0...
// Server -> runner, on the reply pipe:
//   int32 pid, int32 how (0 started, 1 exec failed, 2 refused), int32 value (errno)
//   then, for a started stage: int32 0, int32 wait status
// ---------------------------------------------------------------------------------------------

#define MAGIC 0x52554e31u  // "RUN1"
#define MAX_BODY (8u << 20)
#define MAX_CHILDREN 4096
#define MAX_ARGS 65536

static pthread_mutex_t request_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t server_once = PTHREAD_ONCE_INIT;
static int server_socket = -1;
static int server_error = 0;

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
static struct { pid_t pid; int reply; } children[MAX_CHILDREN];

static void close_all_but(int keep) {
    if (keep > 3) syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0);
    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0);
}

static void reply3(int fd, int32_t a, int32_t b, int32_t c) {
    int32_t msg[3] = {a, b, c};
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

// Parses `body` into the static argv/envp arrays; returns 0 or an errno.
static int parse_body(uint32_t length, char **path, char **cwd) {
    char *p = body, *end = body + length;
    *path = p;
    p = memchr(p, 0, (size_t)(end - p));
    if (!p) return EINVAL;
    *cwd = ++p;
    p = memchr(p, 0, (size_t)(end - p));
    if (!p) return EINVAL;
    p++;
    char **lists[2] = {argv_buf, envp_buf};
    for (int l = 0; l < 2; l++) {
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

static void spawn_one(int out_fd, int err_fd, int reply, uint32_t length, const sigset_t *original_mask) {
    char *path, *cwd;
    int bad = parse_body(length, &path, &cwd);
    int slot = -1;
    for (int i = 0; i < MAX_CHILDREN && slot < 0; i++)
        if (children[i].pid == 0) slot = i;
    if (bad || slot < 0) {
        reply3(reply, -1, 2, bad ? bad : EAGAIN);
        close(reply);
        return;
    }
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        reply3(reply, -1, 2, errno);
        close(reply);
        return;
    }
    // vfork: the child borrows this (small) process's memory until it execs or exits.
    pid_t pid = vfork();
    if (pid == 0) {
        setpgid(0, 0);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++)
            if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, NULL);
        sigprocmask(SIG_SETMASK, original_mask, NULL);
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
        int e = 0;
        if (cwd[0] && chdir(cwd) != 0) e = errno;
        if (!e) {
            execve(path, argv_buf, envp_buf);
            e = errno;
        }
        write_all(errpipe[1], &e, sizeof e);
        _exit(127);
    }
    close(errpipe[1]);
    if (pid < 0) {
        int e = errno;
        close(errpipe[0]);
        reply3(reply, -1, 2, e);
        close(reply);
        return;
    }
    setpgid(pid, pid);
    int exec_errno = 0;
    ssize_t n = read_all(errpipe[0], &exec_errno, sizeof exec_errno);
    close(errpipe[0]);
    if (n == (ssize_t)sizeof exec_errno) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
        reply3(reply, pid, 1, exec_errno);
        close(reply);
        return;
    }
    children[slot].pid = pid;
    children[slot].reply = reply;
    reply3(reply, pid, 0, 0);
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

static void start_server(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        server_error = errno;
        return;
    }
    sigset_t original;
    sigprocmask(SIG_SETMASK, NULL, &original);
    pid_t pid = fork();
    if (pid < 0) {
        server_error = errno;
        close(sv[0]);
        close(sv[1]);
        return;
    }
    if (pid == 0) {
        // Drop every descriptor the runner had (the workspace lock among them) but our socket.
        int keep = sv[1];
        close_all_but(keep);
        serve(keep, &original);
        _exit(0);
    }
    close(sv[1]);
    server_socket = sv[0];
}

int cspawn_start(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdout_fd, int stderr_fd, cspawn_handle *out) {
    pthread_once(&server_once, start_server);
    if (server_socket < 0) return -(server_error ? server_error : EIO);

    size_t length = strlen(path) + 1 + strlen(cwd ? cwd : "") + 1 + 8;
    uint32_t argc = 0, envc = 0;
    while (argv[argc]) length += strlen(argv[argc++]) + 1;
    while (envp[envc]) length += strlen(envp[envc++]) + 1;
    if (length > MAX_BODY || argc > MAX_ARGS || envc > MAX_ARGS) return -E2BIG;
    char *buf = malloc(length);
    if (!buf) return -ENOMEM;
    char *p = buf;
    size_t l = strlen(path) + 1;
    memcpy(p, path, l);
    p += l;
    l = strlen(cwd ? cwd : "") + 1;
    memcpy(p, cwd ? cwd : "", l);
    p += l;
    memcpy(p, &argc, 4);
    p += 4;
    for (uint32_t i = 0; i < argc; i++) {
        l = strlen(argv[i]) + 1;
        memcpy(p, argv[i], l);
        p += l;
    }
    memcpy(p, &envc, 4);
    p += 4;
    for (uint32_t i = 0; i < envc; i++) {
        l = strlen(envp[i]) + 1;
        memcpy(p, envp[i], l);
        p += l;
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

    pthread_mutex_lock(&request_lock);
    ssize_t sent;
    do {
        sent = sendmsg(server_socket, &msg, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    int e = sent == (ssize_t)sizeof header ? 0 : (sent < 0 ? errno : EPIPE);
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
    pthread_mutex_unlock(&request_lock);
    free(buf);
    close(reply[1]);
    if (e) {
        close(reply[0]);
        return -e;
    }
    int32_t first[3];
    if (read_all(reply[0], first, sizeof first) != (ssize_t)sizeof first) {
        close(reply[0]);
        return -EPIPE;
    }
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

int cspawn_signal_group(const cspawn_handle *h, int sig) {
    if (h->child_pid <= 0) return -ESRCH;
    return kill(-h->child_pid, sig) == 0 ? 0 : -errno;
}

int cspawn_exited(int status) { return WIFEXITED(status); }
int cspawn_exit_code(int status) { return WEXITSTATUS(status); }
int cspawn_signaled(int status) { return WIFSIGNALED(status); }
int cspawn_term_signal(int status) { return WTERMSIG(status); }
