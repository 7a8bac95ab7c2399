/* outdir.h: the receiver's output folder and every file operation in it
 * (issue 11). The names come from a peer: they passed the path rules
 * (docs/protocol.md §7) already, and here they are confined again by the
 * file system itself:
 *  - every directory is resolved beneath the output folder and no component
 *    may be a symbolic link (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
 *    or openat + O_NOFOLLOW one component at a time where the kernel has no
 *    openat2), so a planted "docs -> ../outside" cannot take "docs/a.txt"
 *    out of it;
 *  - a new NAME.partial is created with O_EXCL, and an existing one is reused
 *    only when it is a regular file with one link, so a hard link planted at
 *    that name is never truncated or written through;
 *  - nothing opened is a FIFO or a device (O_NONBLOCK, then S_ISREG), so a
 *    planted FIFO cannot hang the receiver;
 *  - a received file is committed by rename without replacing what is there
 *    (RENAME_NOREPLACE) unless the user asked for --force.
 * The output folder itself is the user's choice: symbolic links in its own
 * path are followed. `dir` is "" or '/'-joined components, `name` one
 * component; "", "." and ".." components are refused (-EINVAL) here too.
 * Functions return a file descriptor or 0 on success, -errno on failure. */
#ifndef PD_CLI_OUTDIR_H
#define PD_CLI_OUTDIR_H

#include <stdbool.h>
#include <sys/stat.h>

/* mkdir -p `path`, then its O_DIRECTORY descriptor. */
int cli_outdir_open_root(const char *path);
/* `dir` beneath root as an O_DIRECTORY descriptor ("" = a new descriptor of
 * root). create: missing components are made (0755). A component that is a
 * symbolic link: -ELOOP; one that is not a directory: -ENOTDIR. */
int cli_outdir_dir_open(int root, const char *dir, bool create);
/* lstat of dir/name beneath root: 0, -ENOENT when it or its dir is missing. */
int cli_outdir_stat(int root, const char *dir, const char *name, struct stat *st);
/* `name` when neither it nor "NAME.partial" exists in dir, else the first
 * free "stem (N).ext" (N < 10000; ".bashrc" has no extension). malloc'd;
 * NULL when none is free or out of memory. */
char *cli_outdir_free_name(int root, const char *dir, const char *name);
/* An O_RDONLY descriptor of the regular file dir/name. single_link: also
 * -EMLINK when it has other hard links (a .partial about to be reused). */
int cli_outdir_read_open(int root, const char *dir, const char *name, bool single_link);
/* An O_WRONLY descriptor of the partial file dir/name, directories made as
 * needed. reuse: an existing regular file with one link is opened (not
 * truncated), none is created; !reuse: created with O_EXCL (-EEXIST when
 * anything is at the name). A hard-linked file: -EMLINK; a symbolic link:
 * -ELOOP; any other non-regular file: -EINVAL. */
int cli_outdir_partial_open(int root, const char *dir, const char *name, bool reuse);
/* Renames dir/from to dir/to; unless replace, -EEXIST when `to` exists. */
int cli_outdir_commit(int root, const char *dir, const char *from, const char *to, bool replace);
/* Removes the file dir/name (never a directory). */
int cli_outdir_remove(int root, const char *dir, const char *name);
/* What went wrong, for the user: the errors above in words. */
const char *cli_outdir_strerror(int err);
/* Tests: false makes cli_outdir_dir_open() walk one component at a time, as on
 * a kernel without openat2 (before Linux 5.6, or where seccomp refuses it). */
void cli_outdir_use_openat2(bool on);

#endif
