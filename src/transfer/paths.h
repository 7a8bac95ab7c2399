/* paths.h: the manifest path rules of docs/protocol.md §7, as
 * web/src/protocol/paths.ts applies them; a receiver checks every manifest
 * before anything touches the disk. */
#ifndef PD_TRANSFER_PATHS_H
#define PD_TRANSFER_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/types.h"

/* NULL when safe, else a short reason ("dot component", ...). */
const char *xfer_path_component_problem(const char *c, size_t len);
const char *xfer_path_name_problem(const char *name, size_t len);
const char *xfer_path_dir_problem(const char *dir, size_t len);
/* Checks every entry and that no two paths collide and no file path is
 * also a directory. Returns XFER_OK and *problem NULL when safe; XFER_OK
 * and writes a reason ("file 3: dot component") into problem_buf otherwise;
 * XFER_E_NOMEM when the check itself could not run. */
int xfer_path_manifest_check(const xfer_file_entry *files, size_t n, char *problem_buf,
                             size_t problem_cap, const char **problem);
/* Receiver policy, not a §7 rule: true when a component of `path` (a name,
 * or a dir of '/'-joined components) starts with '.'. */
bool xfer_path_hidden(const char *path, size_t len);
/* Its dir or its name is hidden. */
bool xfer_path_entry_hidden(const xfer_file_entry *f);
/* NULL when no entry is hidden, else "file 3: hidden name (leading dot)"
 * written into buf. */
const char *xfer_path_manifest_hidden(const xfer_file_entry *files, size_t n, char *buf,
                                      size_t cap);

#endif
