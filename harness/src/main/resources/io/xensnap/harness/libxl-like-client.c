/*
 * A client that uses a domain's QEMU and stored config the way libxl does, to measure how long xensnap keeps it
 * waiting. Every round:
 *   1. libxl's qmp-socket-lock (open O_RDWR|O_CREAT, flock LOCK_EX, re-check that the path still names the file,
 *      as libxl__lock_file_new does), connect QMP, greeting, qmp_capabilities, query-status, close, unlock (unlink,
 *      close);
 *   2. the domain-userdata lock the same way, read the whole stored config, unlock.
 * Rounds start every <interval-ms> until <stop-file> exists. One line per round on stdout:
 *   round <n> ok <qmp-ms> <config-ms> <total-ms> <status>
 *   round <n> error <total-ms> <what>
 *
 * usage: libxl-like-client <qmp-lock> <qmp-socket> <userdata-lock> <userdata-file> <interval-ms> <stop-file>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

/* libxl's lock protocol: returns the fd holding the lock, or -1 */
static int lock_file(const char *path) {
    for (;;) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            return -1;
        }
        while (flock(fd, LOCK_EX) < 0) {
            if (errno != EINTR) {
                close(fd);
                return -1;
            }
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            return fd;
        }
        close(fd); /* the holder unlinked it before we got it: take the new file */
    }
}

static void unlock_file(const char *path, int fd) {
    unlink(path);
    close(fd);
}

/* reads one line (up to \n) into buf; returns its length or -1 */
static int read_line(int s, char *buf, int size) {
    int n = 0;
    while (n < size - 1) {
        ssize_t r = read(s, buf + n, 1);
        if (r <= 0) {
            return -1;
        }
        if (buf[n++] == '\n') {
            break;
        }
    }
    buf[n] = 0;
    return n;
}

/* sends a command and reads lines until its reply (events are skipped); returns 0 on a "return" */
static int command(int s, const char *cmd, char *reply, int size) {
    if (write(s, cmd, strlen(cmd)) != (ssize_t) strlen(cmd)) {
        return -1;
    }
    for (;;) {
        if (read_line(s, reply, size) < 0) {
            return -1;
        }
        if (strstr(reply, "\"return\"")) {
            return 0;
        }
        if (strstr(reply, "\"error\"")) {
            return -1;
        }
    }
}

static const char *qmp_round(const char *sock_path, char *status, int size) {
    char line[65536];
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, sock_path, sizeof(a.sun_path) - 1);
    if (s < 0 || connect(s, (struct sockaddr *) &a, sizeof(a)) < 0) {
        if (s >= 0) close(s);
        return "connect";
    }
    const char *err = NULL;
    do {
        if (read_line(s, line, sizeof(line)) < 0 || !strstr(line, "\"QMP\"")) { err = "greeting"; break; }
        if (command(s, "{\"execute\":\"qmp_capabilities\"}\n", line, sizeof(line))) { err = "capabilities"; break; }
        if (command(s, "{\"execute\":\"query-status\"}\n", line, sizeof(line))) { err = "query-status"; break; }
        char *st = strstr(line, "\"status\": \"");
        snprintf(status, size, "%s", st ? st + 11 : "?");
        char *q = strchr(status, '"');
        if (q) *q = 0;
    } while (0);
    close(s);
    return err;
}

static const char *config_round(const char *file) {
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return "open config";
    }
    char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
    }
    close(fd);
    return r < 0 ? "read config" : NULL;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s qmp-lock qmp-socket userdata-lock userdata-file interval-ms stop-file\n", argv[0]);
        return 2;
    }
    double interval = atof(argv[5]);
    double next = now_ms();
    for (int n = 1; access(argv[6], F_OK) != 0; n++) {
        double t0 = now_ms();
        char status[64] = "?";
        const char *err = NULL;
        int fd = lock_file(argv[1]);
        if (fd < 0) {
            err = "qmp-socket-lock";
        } else {
            err = qmp_round(argv[2], status, sizeof(status));
            unlock_file(argv[1], fd);
        }
        double t1 = now_ms();
        if (!err) {
            fd = lock_file(argv[3]);
            if (fd < 0) {
                err = "userdata lock";
            } else {
                err = config_round(argv[4]);
                unlock_file(argv[3], fd);
            }
        }
        double t2 = now_ms();
        if (err) {
            printf("round %d error %.1f %s\n", n, t2 - t0, err);
        } else {
            printf("round %d ok %.1f %.1f %.1f %s\n", n, t1 - t0, t2 - t1, t2 - t0, status);
        }
        fflush(stdout);
        next += interval;
        double wait = next - now_ms();
        if (wait > 0) {
            usleep((useconds_t) (wait * 1000));
        }
    }
    return 0;
}
