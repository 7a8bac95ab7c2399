/* static_files.c: see static_files.h. */
#include "static_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The app's biggest bundle is well under this; anything larger is a mistake. */
#define MAX_STATIC_FILE (32u * 1024u * 1024u)

bool static_resolve(const char *root, const char *path, size_t path_len, char *out, size_t cap)
{
    char decoded[1024];
    if (path_len == 0 || path_len >= sizeof decoded || path[0] != '/') return false;
    long n = http_percent_decode(path, path_len, decoded);
    if (n < 1) return false;
    decoded[n] = '\0';
    /* no "..", no hidden files, no backslashes: checked per segment */
    for (const char *seg = decoded; *seg;) {
        if (*seg == '/') {
            seg++;
            continue;
        }
        if (*seg == '.') return false;
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (memchr(seg, '\\', len)) return false;
        seg += len;
    }
    const char *rel = strcmp(decoded, "/") == 0 ? "/index.html" : decoded;
    int w = snprintf(out, cap, "%s%s", root, rel);
    return w > 0 && (size_t)w < cap;
}

const char *static_content_type(const char *file)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".wasm", "application/wasm"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(file, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0) return types[i].type;
    return "application/octet-stream";
}

/* Opens root/rel without following a symlink in any component of rel, so
 * a link planted in the web root cannot serve a file from outside it
 * (issue 11, item 8). The root itself may be a link: the operator chose it.
 * rel starts with '/' and has been checked by static_resolve. */
static int open_beneath(const char *root, const char *rel)
{
    char path[1024];
    size_t rel_len = strlen(rel);
    if (rel_len >= sizeof path) return -1;
    memcpy(path, rel, rel_len + 1);
    int dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char *save = NULL;
    for (char *name = strtok_r(path, "/", &save); name && dir >= 0;) {
        char *next = strtok_r(NULL, "/", &save);
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (next ? O_DIRECTORY : O_NONBLOCK);
        int fd = openat(dir, name, flags);
        close(dir);
        if (!next) return fd;
        dir = fd;
        name = next;
    }
    if (dir >= 0) close(dir);
    return -1;
}

void static_serve(http_conn *hc, const char *root, const char *path, size_t path_len)
{
    char file[4096];
    if (!static_resolve(root, path, path_len, file, sizeof file)) {
        http_conn_respond(hc, 400, "text/plain", NULL, "bad path", 8);
        return;
    }
    /* Source maps are never served (docs/security.md): they hand out the
     * app's source, and at 1.6 MB were the largest file here, the best
     * amplifier for a client that pipelines GETs without reading. */
    size_t file_len = strlen(file);
    if (file_len >= 4 && strcmp(file + file_len - 4, ".map") == 0) {
        http_conn_respond(hc, 404, "text/plain", NULL, "not found", 9);
        return;
    }
    int fd = open_beneath(root, file + strlen(root));
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_STATIC_FILE) {
        if (fd >= 0) close(fd);
        http_conn_respond(hc, 404, "text/plain", NULL, "not found", 9);
        return;
    }
    char *body = malloc(st.st_size ? (size_t)st.st_size : 1);
    size_t got = 0;
    while (body && got < (size_t)st.st_size) {
        ssize_t r = read(fd, body + got, (size_t)st.st_size - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!body || got != (size_t)st.st_size) {
        free(body);
        http_conn_respond(hc, 500, "text/plain", NULL, "read error", 10);
        return;
    }
    /* Vite puts content-hashed names under /assets/: cache those forever */
    bool hashed = strncmp(path, "/assets/", 8) == 0;
    /* nosniff, CSP and the rest are on every response (http_conn.c) */
    const char *headers = hashed ? "Cache-Control: public, max-age=31536000, immutable\r\n"
                                 : "Cache-Control: no-cache\r\n";
    http_conn_respond(hc, 200, static_content_type(file), headers, body, got);
    free(body);
}
