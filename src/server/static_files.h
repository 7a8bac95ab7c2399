/* static_files.h: serves the web app's files from one directory.
 *
 * Paths are percent-decoded, then refused if they could leave the root
 * ("..", backslashes, NUL, hidden files). "/" means index.html. Files are
 * read with a blocking read: the app is a few hundred KiB that sits in the
 * page cache, and a read of that size costs microseconds. */
#ifndef PD_STATIC_FILES_H
#define PD_STATIC_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "http_conn.h"

/* Maps a request path to a file under root; false if the path is unsafe. */
bool static_resolve(const char *root, const char *path, size_t path_len, char *out, size_t cap);
/* Content-Type for a file name, by extension. */
const char *static_content_type(const char *file);
/* Answers GET/HEAD for path (200, 404 or 400). */
void static_serve(http_conn *hc, const char *root, const char *path, size_t path_len);

#endif
