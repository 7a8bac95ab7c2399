/* outdir.c: file operations confined to the receiver's output folder; the
 * rules are in outdir.h. Every call resolves its directory afresh from the
 * root descriptor (nothing is cached), so a directory swapped for a symbolic
 * link between two calls is caught by the next one. */
#include "cli/outdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FREE_NAME_TRIES 10000 /* "a (9999).txt": beyond it something is wrong */

static bool g_openat2 = true;

void cli_outdir_use_openat2(bool on)
{
    g_openat2 = on;
}

static bool bad_component(const char *c, size_t len)
{
    return len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.') ||
           memchr(c, '/', len) != NULL;
}

static int neg_errno(void)
{
    return errno ? -errno : -EIO;
}

int cli_outdir_open_root(const char *path)
{
    if (!path || !*path) return -EINVAL;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return neg_errno();
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return neg_errno();
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? neg_errno() : fd;
}

/* One component beneath `at`, made first when asked. */
static int step(int at, const char *c, size_t len, bool create)
{
    char name[256];
    if (bad_component(c, len) || len >= sizeof name) return -EINVAL;
    memcpy(name, c, len);
    name[len] = 0;
    if (create && mkdirat(at, name, 0755) < 0 && errno != EEXIST) return neg_errno();
    /* O_NOFOLLOW: a symbolic link is never followed, whatever it points at
     * (with O_DIRECTORY the kernel says ENOTDIR; say ELOOP, as openat2) */
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) return fd;
    int err = neg_errno();
    struct stat st;
    if (err == -ENOTDIR && fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return -ELOOP;
    return err;
}

static int walk(int root, const char *dir, bool create)
{
    int cur = fcntl(root, F_DUPFD_CLOEXEC, 0);
    if (cur < 0) return neg_errno();
    for (const char *p = dir; *p;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int next = step(cur, p, len, create);
        close(cur);
        if (next < 0) return next;
        cur = next;
        p += len + (end ? 1 : 0);
        if (end && !*p) {
            close(cur);
            return -EINVAL; /* trailing '/' */
        }
    }
    return cur;
}

/* Every component is a name: no "", ".", ".." (so no leading, trailing or
 * doubled '/'), whatever the caller checked before. */
static bool dir_ok(const char *dir)
{
    for (const char *p = dir;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (bad_component(p, len) || len > 255) return false;
        if (!end) return true;
        p = end + 1;
    }
}

int cli_outdir_dir_open(int root, const char *dir, bool create)
{
    if (root < 0 || !dir || (*dir && !dir_ok(dir))) return -EINVAL;
    if (!*dir) {
        int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
        return fd < 0 ? neg_errno() : fd;
    }
    if (g_openat2) {
        /* one call resolves the whole dir, refusing any symbolic link and any
         * step out of root (Linux 5.6+) */
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, root, dir, &how, sizeof how);
        if (fd >= 0) return (int)fd;
        /* ENOSYS: an older kernel; EPERM: a seccomp filter that does not know
         * it. Both walk instead, as does a missing dir that is to be made. */
        if (errno != ENOSYS && errno != EPERM && !(errno == ENOENT && create)) return neg_errno();
    }
    return walk(root, dir, create);
}

/* 0 for one component, else -EINVAL, or -ENAMETOOLONG past NAME_MAX (a
 * 255-byte name has no room for ".partial") */
static int name_check(const char *name)
{
    if (!name || bad_component(name, strlen(name))) return -EINVAL;
    return strlen(name) > NAME_MAX ? -ENAMETOOLONG : 0;
}

int cli_outdir_stat(int root, const char *dir, const char *name, struct stat *st)
{
    int bad = name_check(name);
    if (bad) return bad;
    int d = cli_outdir_dir_open(root, dir, false);
    if (d < 0) return d;
    int r = fstatat(d, name, st, AT_SYMLINK_NOFOLLOW) < 0 ? neg_errno() : 0;
    close(d);
    return r;
}

static bool taken(int d, const char *name)
{
    struct stat st;
    char partial[300];
    snprintf(partial, sizeof partial, "%s.partial", name);
    return fstatat(d, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
           fstatat(d, partial, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

char *cli_outdir_free_name(int root, const char *dir, const char *name)
{
    if (name_check(name)) return NULL;
    int d = cli_outdir_dir_open(root, dir, false);
    /* no dir yet: every name is free; a dir that cannot be opened (a
     * symbolic link in the way): the open of the file says why */
    if (d < 0) return strdup(name);
    if (!taken(d, name)) {
        close(d);
        return strdup(name);
    }
    const char *dot = strrchr(name, '.');
    if (dot == name) dot = NULL; /* ".bashrc" has no extension */
    size_t stem = dot ? (size_t)(dot - name) : strlen(name);
    size_t cap = strlen(name) + 16; /* " (N)" with N < FREE_NAME_TRIES */
    char *c = malloc(cap);
    for (int i = 1; c && i < FREE_NAME_TRIES; i++) {
        snprintf(c, cap, "%.*s (%d)%s", (int)stem, name, i, dot ? dot : "");
        if (!taken(d, c)) {
            close(d);
            return c;
        }
    }
    free(c);
    close(d);
    return NULL;
}

/* Opens a file that lstat saw as a regular file, without blocking (a FIFO
 * swapped in meanwhile) and checks it is still that file. */
static int open_regular(int d, const char *name, int flags, bool single_link)
{
    struct stat before, after;
    if (fstatat(d, name, &before, AT_SYMLINK_NOFOLLOW) < 0) return neg_errno();
    if (S_ISLNK(before.st_mode)) return -ELOOP;
    if (!S_ISREG(before.st_mode)) return -EINVAL;
    if (single_link && before.st_nlink != 1) return -EMLINK;
    int fd = openat(d, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return neg_errno();
    bool stat_ok = fstat(fd, &after) == 0;
    if (!stat_ok || !S_ISREG(after.st_mode) || after.st_ino != before.st_ino ||
        after.st_dev != before.st_dev || (single_link && after.st_nlink != 1)) {
        int err = stat_ok && single_link && S_ISREG(after.st_mode) && after.st_nlink != 1 ? -EMLINK
                                                                                          : -EINVAL;
        close(fd);
        return err;
    }
    return fd;
}

int cli_outdir_read_open(int root, const char *dir, const char *name, bool single_link)
{
    int bad = name_check(name);
    if (bad) return bad;
    int d = cli_outdir_dir_open(root, dir, false);
    if (d < 0) return d;
    int fd = open_regular(d, name, O_RDONLY, single_link);
    close(d);
    return fd;
}

int cli_outdir_partial_open(int root, const char *dir, const char *name, bool reuse)
{
    int bad = name_check(name);
    if (bad) return bad;
    int d = cli_outdir_dir_open(root, dir, true);
    if (d < 0) return d;
    int fd;
    if (reuse) {
        /* only the earlier file: one created now would hold zeros where the
         * digest already counted the earlier bytes (outdir.h) */
        fd = open_regular(d, name, O_WRONLY, true);
    } else {
        /* O_EXCL: never a file (or link) that is there already */
        fd = openat(d, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) fd = neg_errno();
    }
    close(d);
    return fd;
}

int cli_outdir_commit(int root, const char *dir, const char *from, const char *to, bool replace)
{
    int bad = name_check(from) ? name_check(from) : name_check(to);
    if (bad) return bad;
    int d = cli_outdir_dir_open(root, dir, false);
    if (d < 0) return d;
    int r = renameat2(d, from, d, to, replace ? 0 : RENAME_NOREPLACE) < 0 ? neg_errno() : 0;
    close(d);
    return r;
}

int cli_outdir_remove(int root, const char *dir, const char *name)
{
    int bad = name_check(name);
    if (bad) return bad;
    int d = cli_outdir_dir_open(root, dir, false);
    if (d < 0) return d;
    int r = unlinkat(d, name, 0) < 0 ? neg_errno() : 0;
    close(d);
    return r;
}

const char *cli_outdir_strerror(int err)
{
    switch (err) {
    case -ELOOP:
    case -EXDEV: /* openat2: a step out of the output folder */
        return "a symbolic link is in the way (not followed)";
    case -EMLINK:
        return "the file there has other hard links (not written)";
    case -EINVAL:
        return "something other than a regular file is in the way";
    case -EEXIST:
        return "a file of that name exists already";
    default:
        return strerror(-err);
    }
}
