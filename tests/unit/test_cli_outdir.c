/* test_cli_outdir.c: the receiver's file-safety rules (src/cli/outdir.h,
 * issue 11) against a real file system, in a fresh temporary folder laid
 * out as an attacker would: "out" is the output folder, "outside" what must
 * never be touched. Every case runs twice: with openat2, and with the
 * one-component-at-a-time walk used where the kernel has no openat2. */
#include "check.h"

#include "cli/outdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[] = "/tmp/pd-outdir-XXXXXX";
static char out_path[64], outside_path[64];

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK_EQ_INT(write(fd, text, strlen(text)), (long)strlen(text));
    close(fd);
}

static bool same_text(const char *path, const char *text)
{
    char buf[256] = "";
    int fd = open(path, O_RDONLY);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n == (ssize_t)strlen(text) && !memcmp(buf, text, strlen(text));
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void rm_rf(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    CHECK_EQ_INT(system(cmd), 0);
}

/* A fresh out/ and outside/ under base. */
static int fresh(void)
{
    snprintf(out_path, sizeof out_path, "%s/out", base);
    snprintf(outside_path, sizeof outside_path, "%s/outside", base);
    rm_rf(out_path);
    rm_rf(outside_path);
    CHECK_EQ_INT(mkdir(outside_path, 0755), 0);
    int root = cli_outdir_open_root(out_path);
    CHECK(root >= 0);
    return root;
}

static void test_dirs(void)
{
    int root = fresh();
    char p[256];
    /* made step by step, beneath root */
    int d = cli_outdir_dir_open(root, "a/b/c", true);
    CHECK(d >= 0);
    if (d >= 0) close(d);
    snprintf(p, sizeof p, "%s/a/b/c", out_path);
    CHECK(exists(p));
    CHECK_EQ_INT(cli_outdir_dir_open(root, "x/y", false), -ENOENT);
    d = cli_outdir_dir_open(root, "", false);
    CHECK(d >= 0);
    if (d >= 0) close(d);
    /* refused components, whatever the caller checked before */
    CHECK_EQ_INT(cli_outdir_dir_open(root, "../outside", true), -EINVAL);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "a/../../outside", true), -EINVAL);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "/tmp", true), -EINVAL);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "a//b", true), -EINVAL);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "a/", true), -EINVAL);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "a/./b", true), -EINVAL);
    /* a planted "docs -> ../outside": not followed, by a lookup or a create */
    snprintf(p, sizeof p, "%s/docs", out_path);
    CHECK_EQ_INT(symlink("../outside", p), 0);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "docs", false), -ELOOP);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "docs", true), -ELOOP);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "docs/sub", true), -ELOOP);
    CHECK_EQ_INT(cli_outdir_partial_open(root, "docs", "a.txt.partial", false), -ELOOP);
    CHECK_EQ_INT(cli_outdir_partial_open(root, "docs", "a.txt.partial", true), -ELOOP);
    struct stat st;
    CHECK_EQ_INT(cli_outdir_stat(root, "docs", "a.txt", &st), -ELOOP);
    snprintf(p, sizeof p, "%s/sub", outside_path);
    CHECK(!exists(p));
    snprintf(p, sizeof p, "%s/a.txt.partial", outside_path);
    CHECK(!exists(p));
    /* a symbolic link deeper down, and one to a folder inside root */
    snprintf(p, sizeof p, "%s/a/b/in", out_path);
    CHECK_EQ_INT(symlink("c", p), 0);
    CHECK_EQ_INT(cli_outdir_dir_open(root, "a/b/in", true), -ELOOP);
    /* a file where a directory is expected */
    snprintf(p, sizeof p, "%s/f", out_path);
    put(p, "x");
    CHECK_EQ_INT(cli_outdir_dir_open(root, "f/g", true), -ENOTDIR);
    close(root);
}

static void test_partial(void)
{
    int root = fresh();
    char p[256], victim[256];
    snprintf(victim, sizeof victim, "%s/victim.txt", outside_path);
    put(victim, "precious");
    /* a hard link planted at NAME.partial: not reused, not replaced */
    snprintf(p, sizeof p, "%s/a.txt.partial", out_path);
    CHECK_EQ_INT(link(victim, p), 0);
    CHECK_EQ_INT(cli_outdir_partial_open(root, "", "a.txt.partial", true), -EMLINK);
    CHECK_EQ_INT(cli_outdir_partial_open(root, "", "a.txt.partial", false), -EEXIST);
    CHECK_EQ_INT(cli_outdir_read_open(root, "", "a.txt.partial", true), -EMLINK);
    int fd = cli_outdir_read_open(root, "", "a.txt.partial", false); /* a final file may */
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    CHECK(same_text(victim, "precious"));
    /* a symbolic link planted there */
    snprintf(p, sizeof p, "%s/b.txt.partial", out_path);
    CHECK_EQ_INT(symlink(victim, p), 0);
    CHECK_EQ_INT(cli_outdir_partial_open(root, "", "b.txt.partial", true), -ELOOP);
    CHECK_EQ_INT(cli_outdir_partial_open(root, "", "b.txt.partial", false), -EEXIST);
    CHECK_EQ_INT(cli_outdir_read_open(root, "", "b.txt.partial", false), -ELOOP);
    CHECK(same_text(victim, "precious"));
    /* a FIFO: refused at once, never opened (that would block) */
    snprintf(p, sizeof p, "%s/c.txt.partial", out_path);
    CHECK_EQ_INT(mkfifo(p, 0644), 0);
    CHECK_EQ_INT(cli_outdir_partial_open(root, "", "c.txt.partial", true), -EINVAL);
    CHECK_EQ_INT(cli_outdir_read_open(root, "", "c.txt.partial", false), -EINVAL);
    /* our own partial: created, then reused (not truncated by the open) */
    fd = cli_outdir_partial_open(root, "d/e", "f.bin.partial", false);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_EQ_INT(write(fd, "abc", 3), 3);
        close(fd);
    }
    fd = cli_outdir_partial_open(root, "d/e", "f.bin.partial", true);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    snprintf(p, sizeof p, "%s/d/e/f.bin.partial", out_path);
    CHECK(same_text(p, "abc"));
    /* reuse of a missing one creates none: its earlier bytes are gone, and
     * zeros in their place would pass the digest already fed with them */
    CHECK_EQ_INT(cli_outdir_partial_open(root, "d", "new.partial", true), -ENOENT);
    fd = cli_outdir_partial_open(root, "d", "new.partial", false);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    /* commit: never over an existing file unless asked */
    snprintf(p, sizeof p, "%s/d/e/f.bin", out_path);
    put(p, "old");
    CHECK_EQ_INT(cli_outdir_commit(root, "d/e", "f.bin.partial", "f.bin", false), -EEXIST);
    CHECK(same_text(p, "old"));
    CHECK_EQ_INT(cli_outdir_commit(root, "d/e", "f.bin.partial", "f.bin", true), 0);
    CHECK(same_text(p, "abc"));
    CHECK_EQ_INT(cli_outdir_remove(root, "d", "new.partial"), 0);
    CHECK_EQ_INT(cli_outdir_remove(root, "d", "e"), -EISDIR);
    close(root);
}

static void test_free_name(void)
{
    int root = fresh();
    char p[256];
    char *n = cli_outdir_free_name(root, "", "a.txt");
    CHECK(n && !strcmp(n, "a.txt"));
    free(n);
    n = cli_outdir_free_name(root, "no/such/dir", "a.txt");
    CHECK(n && !strcmp(n, "a.txt"));
    free(n);
    snprintf(p, sizeof p, "%s/a.txt", out_path);
    put(p, "x");
    snprintf(p, sizeof p, "%s/a (1).txt.partial", out_path); /* a partial takes its name too */
    put(p, "x");
    n = cli_outdir_free_name(root, "", "a.txt");
    CHECK(n && !strcmp(n, "a (2).txt"));
    free(n);
    snprintf(p, sizeof p, "%s/.bashrc", out_path);
    put(p, "x");
    n = cli_outdir_free_name(root, "", ".bashrc");
    CHECK(n && !strcmp(n, ".bashrc (1)"));
    free(n);
    char longname[256];
    memset(longname, 'x', 255);
    longname[255] = 0;
    char longpartial[300];
    snprintf(longpartial, sizeof longpartial, "%s.partial", longname);
    CHECK_EQ_INT(cli_outdir_partial_open(root, "", longpartial, false), -ENAMETOOLONG);
    CHECK(cli_outdir_free_name(root, "", "..") == NULL);
    CHECK(cli_outdir_free_name(root, "", "a/b") == NULL);
    close(root);
}

static void test_strerror(void)
{
    CHECK(strstr(cli_outdir_strerror(-ELOOP), "symbolic link") != NULL);
    CHECK(strstr(cli_outdir_strerror(-EMLINK), "hard links") != NULL);
    CHECK(strlen(cli_outdir_strerror(-ENOSPC)) > 0);
}

int main(void)
{
    if (!mkdtemp(base)) return 1;
    for (int pass = 0; pass < 2; pass++) {
        cli_outdir_use_openat2(pass == 0);
        test_dirs();
        test_partial();
        test_free_name();
    }
    test_strerror();
    rm_rf(base);
    return CHECK_DONE();
}
