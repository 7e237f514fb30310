/*
 * xs-fakexen: lets the stock Debian xenstored 4.17 (C) and oxenstored 4.17 (OCaml) run without a hypervisor.
 *
 * Loaded with LD_PRELOAD. An unversioned definition here wins over the binary's versioned reference
 * (xc_interface_open@VERS_4.17.0 ...): the real Xen libraries still load, but these calls never reach them.
 * The daemon then does its normal dom0 start-up (domain_init, dom0_init, introduce_domain(0), setup_structure),
 * which "-D" skips and so leaves the store unopened.
 *
 * Environment:
 *   XS_FAKEXEN_DOMAINS  which domids "exist" for xc_domain_getinfo: "all" (default: every domid below 0x7ff0),
 *                       a list "1,2,7", or an absolute file path holding such a list, re-read on every query.
 *   XS_FAKEXEN_ROOT     with XS_FAKEXEN_REMAP: paths below one of the REMAP prefixes are moved under ROOT
 *                       (/var/run/xenstored/socket -> ROOT/var/run/xenstored/socket). oxenstored compiles its
 *                       socket and dump paths in; this keeps several daemons apart and the real paths untouched.
 *   XS_FAKEXEN_REMAP    colon-separated absolute prefixes, matched on whole path components.
 *
 * SIGUSR1 fakes VIRQ_DOM_EXC (a domain died) for cxenstored; oxenstored installs its own SIGUSR1 handler later.
 *
 * Build: gcc -O2 -shared -fPIC -o xs-fakexen.so xs-fakexen.c -ldl
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define PAGE 4096
#define MAX_DOMID 0x7ff0u
#define MAX_PREFIXES 16

/* ---------------------------------------------------------------- path remapping */

static char remap_root[PATH_MAX];
static char remap_prefix_buf[4096];
static const char *remap_prefixes[MAX_PREFIXES];
static size_t remap_count;

static void remap_init(void)
{
    const char *root = getenv("XS_FAKEXEN_ROOT");
    const char *list = getenv("XS_FAKEXEN_REMAP");
    if (!root || !*root || !list || !*list)
        return;
    if (strlen(root) >= sizeof(remap_root) || strlen(list) >= sizeof(remap_prefix_buf))
        return;
    strcpy(remap_root, root);
    strcpy(remap_prefix_buf, list);
    for (char *save = NULL, *p = strtok_r(remap_prefix_buf, ":", &save); p && remap_count < MAX_PREFIXES;
         p = strtok_r(NULL, ":", &save)) {
        if (p[0] == '/')
            remap_prefixes[remap_count++] = p;
    }
}

/* Returns path itself, or buf holding ROOT + path when path lies below a remapped prefix; NULL when too long. */
static const char *remap(const char *path, char *buf, size_t size)
{
    if (!path || path[0] != '/' || !remap_count)
        return path;
    for (size_t i = 0; i < remap_count; i++) {
        size_t n = strlen(remap_prefixes[i]);
        if (strncmp(path, remap_prefixes[i], n) == 0 && (path[n] == '\0' || path[n] == '/')) {
            if ((size_t)snprintf(buf, size, "%s%s", remap_root, path) >= size) {
                errno = ENAMETOOLONG;
                return NULL;
            }
            return buf;
        }
    }
    return path;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))
#define REMAP_OR_FAIL(var, fail)                                  \
    char var##_buf[PATH_MAX];                                     \
    const char *var##_mapped = remap(var, var##_buf, PATH_MAX);   \
    if (!var##_mapped)                                            \
        return fail;

/* ---------------------------------------------------------------- /proc/xen bootstrap files */

static int memfd_with(const char *name, const void *data, size_t len, size_t size)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) != 0 || (len && pwrite(fd, data, len, 0) != (ssize_t)len)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* -1 when path is not one of the faked files. */
static int proc_xen_open(const char *path)
{
    /* No newline: oxenstored parses the port with int_of_string. */
    if (path && strcmp(path, "/proc/xen/xsd_port") == 0)
        return memfd_with("xsd_port", "1", 1, 1);
    /* dom0's ring page: mapped by the daemon, never written by anyone. */
    if (path && strcmp(path, "/proc/xen/xsd_kva") == 0)
        return memfd_with("xsd_kva", NULL, 0, PAGE);
    return -1;
}

static int wants_mode(int flags)
{
#ifdef O_TMPFILE
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return 1;
#endif
    return (flags & O_CREAT) != 0;
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (wants_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int fd = proc_xen_open(path);
    if (fd >= 0)
        return fd;
    REMAP_OR_FAIL(path, -1);
    return NEXT(open)(path_mapped, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (wants_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int fd = proc_xen_open(path);
    if (fd >= 0)
        return fd;
    REMAP_OR_FAIL(path, -1);
    return NEXT(open64)(path_mapped, flags, mode);
}

FILE *fopen(const char *path, const char *mode)
{
    REMAP_OR_FAIL(path, NULL);
    return NEXT(fopen)(path_mapped, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
    REMAP_OR_FAIL(path, NULL);
    return NEXT(fopen64)(path_mapped, mode);
}

int mkdir(const char *path, mode_t mode)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(mkdir)(path_mapped, mode);
}

int rmdir(const char *path)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(rmdir)(path_mapped);
}

int unlink(const char *path)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(unlink)(path_mapped);
}

int rename(const char *from, const char *to)
{
    REMAP_OR_FAIL(from, -1);
    REMAP_OR_FAIL(to, -1);
    return NEXT(rename)(from_mapped, to_mapped);
}

int access(const char *path, int mode)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(access)(path_mapped, mode);
}

int chmod(const char *path, mode_t mode)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(chmod)(path_mapped, mode);
}

int stat(const char *restrict path, struct stat *restrict st)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(stat)(path_mapped, st);
}

int stat64(const char *restrict path, struct stat64 *restrict st)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(stat64)(path_mapped, st);
}

int lstat(const char *restrict path, struct stat *restrict st)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(lstat)(path_mapped, st);
}

int lstat64(const char *restrict path, struct stat64 *restrict st)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(lstat64)(path_mapped, st);
}

int truncate(const char *path, off_t len)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(truncate)(path_mapped, len);
}

int truncate64(const char *path, off64_t len)
{
    REMAP_OR_FAIL(path, -1);
    return NEXT(truncate64)(path_mapped, len);
}

DIR *opendir(const char *path)
{
    REMAP_OR_FAIL(path, NULL);
    return NEXT(opendir)(path_mapped);
}

char *realpath(const char *restrict path, char *restrict resolved)
{
    REMAP_OR_FAIL(path, NULL);
    return NEXT(realpath)(path_mapped, resolved);
}

/* NULL when addr is not a remapped UNIX path; otherwise out, filled in. */
static const struct sockaddr *remap_sockaddr(const struct sockaddr *addr, socklen_t len, struct sockaddr_un *out,
                                             socklen_t *out_len, int *err)
{
    *err = 0;
    if (!addr || addr->sa_family != AF_UNIX || len <= offsetof(struct sockaddr_un, sun_path))
        return NULL;
    const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
    char path[sizeof(un->sun_path) + 1];
    size_t n = len - offsetof(struct sockaddr_un, sun_path);
    if (n > sizeof(un->sun_path))
        n = sizeof(un->sun_path);
    memcpy(path, un->sun_path, n);
    path[n] = '\0';
    char buf[PATH_MAX];
    const char *mapped = remap(path, buf, sizeof(buf));
    if (mapped == path)
        return NULL;
    if (!mapped || strlen(mapped) >= sizeof(out->sun_path)) {
        *err = ENAMETOOLONG;
        return NULL;
    }
    memset(out, 0, sizeof(*out));
    out->sun_family = AF_UNIX;
    strcpy(out->sun_path, mapped);
    *out_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(mapped) + 1);
    return (const struct sockaddr *)out;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_un un;
    socklen_t un_len;
    int err;
    const struct sockaddr *mapped = remap_sockaddr(addr, len, &un, &un_len, &err);
    if (err) {
        errno = err;
        return -1;
    }
    return mapped ? NEXT(bind)(fd, mapped, un_len) : NEXT(bind)(fd, addr, len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_un un;
    socklen_t un_len;
    int err;
    const struct sockaddr *mapped = remap_sockaddr(addr, len, &un, &un_len, &err);
    if (err) {
        errno = err;
        return -1;
    }
    return mapped ? NEXT(connect)(fd, mapped, un_len) : NEXT(connect)(fd, addr, len);
}

/* oxenstored raises RLIMIT_NOFILE at start and dies on EPERM, which a container's hard limit gives even to root. */
int setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
    int rc = NEXT(setrlimit)(resource, rlim);
    if (rc != 0 && errno == EPERM)
        return 0;
    return rc;
}

/* ---------------------------------------------------------------- libxenctrl */

struct fake_handle {
    int magic;
};

void *xc_interface_open(void *logger, void *dombuild_logger, unsigned open_flags)
{
    (void)logger;
    (void)dombuild_logger;
    (void)open_flags;
    struct fake_handle *h = calloc(1, sizeof(*h));
    if (h)
        h->magic = 0x78630001;
    return h;
}

int xc_interface_close(void *xch)
{
    free(xch);
    return 0;
}

static int domain_in_list(const char *list, unsigned domid)
{
    const char *p = list;
    while (*p) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end != p && v == domid)
            return 1;
        p = end != p ? end : p + 1;
        while (*p == ',' || *p == ' ' || *p == '\n' || *p == '\t')
            p++;
    }
    return 0;
}

static int domain_exists(unsigned domid)
{
    if (domid >= MAX_DOMID)
        return 0;
    const char *spec = getenv("XS_FAKEXEN_DOMAINS");
    if (!spec || !*spec || strcmp(spec, "all") == 0)
        return 1;
    if (spec[0] != '/')
        return domain_in_list(spec, domid);
    char buf[4096];
    int fd = NEXT(open)(spec, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return 0;
    buf[n] = '\0';
    return domain_in_list(buf, domid);
}

/*
 * The leading fields of xc_dominfo_t (xenctrl.h 4.17): domid, ssidref, then a word of one-bit flags
 * (dying, crashed, shutdown, paused, blocked, running, ...), then shutdown_reason. xenstored reads only these.
 */
struct dominfo_head {
    uint32_t domid;
    uint32_t ssidref;
    unsigned int dying : 1, crashed : 1, shutdown : 1, paused : 1, blocked : 1, running : 1, hvm : 1, debugged : 1,
        xenstore : 1, hap : 1;
    unsigned int shutdown_reason;
};

/* The real call returns the first domain >= first_domid; xenstored always asks for one id and checks it. */
int xc_domain_getinfo(void *xch, uint32_t first_domid, unsigned int max_doms, void *info)
{
    (void)xch;
    if (max_doms == 0 || !domain_exists(first_domid))
        return 0;
    struct dominfo_head head;
    memset(&head, 0, sizeof(head));
    head.domid = first_domid;
    head.running = 1;
    memcpy(info, &head, sizeof(head));
    return 1;
}

/* ---------------------------------------------------------------- libxenevtchn */

struct fake_evtchn {
    int fd;               /* eventfd: the daemon polls it; it fires only on SIGUSR1 */
    uint32_t next_port;
    uint32_t virq_port;
};

static struct fake_evtchn *virq_handle;

static void on_sigusr1(int sig)
{
    (void)sig;
    struct fake_evtchn *h = virq_handle;
    if (h) {
        uint64_t one = 1;
        ssize_t ignored = write(h->fd, &one, sizeof(one));
        (void)ignored;
    }
}

static struct fake_evtchn *evtchn_new(int fd)
{
    struct fake_evtchn *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->fd = fd;
    h->next_port = 2; /* port 1 is dom0's store port from /proc/xen/xsd_port */
    return h;
}

void *xenevtchn_open(void *logger, unsigned open_flags)
{
    (void)logger;
    (void)open_flags;
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct fake_evtchn *h = evtchn_new(fd);
    if (!h)
        close(fd);
    return h;
}

void *xenevtchn_fdopen(void *logger, int fd, unsigned open_flags)
{
    (void)logger;
    (void)open_flags;
    return evtchn_new(fd);
}

int xenevtchn_close(void *xce)
{
    struct fake_evtchn *h = xce;
    if (!h)
        return 0;
    if (virq_handle == h)
        virq_handle = NULL;
    close(h->fd);
    free(h);
    return 0;
}

int xenevtchn_fd(void *xce)
{
    return ((struct fake_evtchn *)xce)->fd;
}

int xenevtchn_notify(void *xce, uint32_t port)
{
    (void)xce;
    (void)port;
    return 0;
}

int xenevtchn_bind_interdomain(void *xce, uint32_t domid, uint32_t remote_port)
{
    (void)domid;
    (void)remote_port;
    return (int)((struct fake_evtchn *)xce)->next_port++;
}

int xenevtchn_bind_virq(void *xce, unsigned int virq)
{
    (void)virq;
    struct fake_evtchn *h = xce;
    h->virq_port = h->next_port++;
    virq_handle = h;
    return (int)h->virq_port;
}

int xenevtchn_unbind(void *xce, uint32_t port)
{
    (void)xce;
    (void)port;
    return 0;
}

int xenevtchn_pending(void *xce)
{
    struct fake_evtchn *h = xce;
    uint64_t count;
    if (read(h->fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
        return -1;
    return (int)h->virq_port;
}

int xenevtchn_unmask(void *xce, uint32_t port)
{
    (void)xce;
    (void)port;
    return 0;
}

/* ---------------------------------------------------------------- libxengnttab */

void *xengnttab_open(void *logger, unsigned open_flags)
{
    (void)logger;
    (void)open_flags;
    struct fake_handle *h = calloc(1, sizeof(*h));
    if (h)
        h->magic = 0x78670001;
    return h;
}

int xengnttab_close(void *xgt)
{
    free(xgt);
    return 0;
}

int xengnttab_set_max_grants(void *xgt, uint32_t nr_grants)
{
    (void)xgt;
    (void)nr_grants;
    return 0;
}

/* The ring page of a domU introduced with XS_INTRODUCE: no guest will ever write to it. */
void *xengnttab_map_grant_ref(void *xgt, uint32_t domid, uint32_t ref, int prot)
{
    (void)xgt;
    (void)domid;
    (void)ref;
    void *p = mmap(NULL, PAGE, prot ? prot : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int xengnttab_unmap(void *xgt, void *start, uint32_t count)
{
    (void)xgt;
    return munmap(start, (size_t)count * PAGE);
}

/* ---------------------------------------------------------------- start-up */

__attribute__((constructor)) static void fakexen_init(void)
{
    remap_init();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigusr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
}
