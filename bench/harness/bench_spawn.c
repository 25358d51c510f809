/* bench_spawn.c - fork/exec with a pipe.  The child never returns into our
 * code: any failure after fork ends it with _exit(127), so no buffered
 * output of ours is written twice. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_spawn.h"

/* Reads fd to its end into a growing buffer; NULL when memory runs out
 * (the pipe is still drained, so the child never blocks on a full pipe). */
static char *slurp(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    char chunk[4096];
    ssize_t n;

    for (;;) {
        n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (buf != NULL && len + (size_t)n + 1 > cap) {
            char *grown = realloc(buf, cap * 2 + (size_t)n);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
            } else {
                buf = grown;
                cap = cap * 2 + (size_t)n;
            }
        }
        if (buf != NULL) {
            memcpy(buf + len, chunk, (size_t)n);
            len += (size_t)n;
        }
    }
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

static void child(char *const argv[], int out_fd)
{
    int null = open("/dev/null", O_RDONLY);

    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        close(null);
    }
    if (out_fd >= 0) {
        dup2(out_fd, STDOUT_FILENO);
        close(out_fd);
    }
    execvp(argv[0], argv);
    _exit(127);
}

int bench_spawn(char *const argv[], char **out)
{
    int fds[2] = {-1, -1};
    int status = 0;
    pid_t pid;

    if (out != NULL) {
        *out = NULL;
        if (pipe(fds) != 0)
            return -1;
    }
    fflush(stdout);  /* nothing of ours may sit in a buffer the child shares */
    pid = fork();
    if (pid < 0) {
        int e = errno;
        if (out != NULL) {
            close(fds[0]);
            close(fds[1]);
        }
        errno = e;
        return -1;
    }
    if (pid == 0) {
        if (out != NULL)
            close(fds[0]);
        child(argv, out != NULL ? fds[1] : -1);
    }
    if (out != NULL) {
        close(fds[1]);
        *out = slurp(fds[0]);
        close(fds[0]);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

static int is_executable(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, X_OK) == 0;
}

int bench_have_program(const char *name)
{
    const char *path = getenv("PATH");
    char buf[4096];

    if (strchr(name, '/') != NULL)
        return is_executable(name);
    if (path == NULL)
        path = "/usr/bin:/bin";
    while (*path != '\0') {
        size_t n = strcspn(path, ":");
        /* An empty PATH entry means the current directory. */
        int len = snprintf(buf, sizeof buf, "%.*s/%s", n ? (int)n : 1,
                           n ? path : ".", name);
        if (len > 0 && (size_t)len < sizeof buf && is_executable(buf))
            return 1;
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}
