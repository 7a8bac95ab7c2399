/* paths.c: manifest path rules (docs/protocol.md §7), the same as
 * web/src/protocol/paths.ts. A receiver refuses a manifest that breaks any
 * of them before anything is written, so a peer can never make us write
 * outside the chosen folder. The CLI's storage layer calls the same
 * functions again before it opens a file (defence in depth).
 *
 * The TS rules look at UTF-16 code units; here we decode UTF-8 code points,
 * which gives the same answers for every valid string. Invalid UTF-8 counts
 * as rule 5 (not valid Unicode). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "transfer/paths.h"

/* Rule 8: characters that make a name display as something else. Bidi
 * overrides and isolates reorder what follows ("invoice\u202Efdp.exe" shows
 * as "invoiceexe.pdf", CVE-2021-42574 "Trojan Source"), zero-width and
 * format characters hide inside a name, line and paragraph separators break
 * it over lines. All are BMP code points, so TS can test UTF-16 code units. */
static bool invisible(unsigned cp)
{
    return cp == 0x061C ||                   /* Arabic letter mark (bidi) */
           (cp >= 0x200B && cp <= 0x200F) || /* zero width space, ZWNJ, ZWJ, LRM, RLM */
           (cp >= 0x2028 && cp <= 0x202E) || /* line/paragraph separators, LRE..RLO */
           (cp >= 0x2060 && cp <= 0x206F) || /* word joiner, invisible operators, isolates */
           cp == 0xFEFF;                     /* zero width no-break space (BOM) */
}

/* ECMAScript WhiteSpace and LineTerminator: what String.prototype.trimEnd
 * removes, so "CON\u00a0.txt" is a device name here as in TS. */
static bool js_space(unsigned cp)
{
    return cp == 0x09 || cp == 0x0A || cp == 0x0B || cp == 0x0C || cp == 0x0D || cp == 0x20 ||
           cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

/* Windows opens these as devices whatever the extension ("CON.txt" too). */
static bool device_name(const unsigned char *s, size_t len)
{
    char low[8];
    size_t n = 0;
    /* up to 7 ASCII chars, or "com"/"lpt" + one of ¹²³ (2 UTF-8 bytes) */
    if (len == 5 && s[3] == 0xC2 && (s[4] == 0xB9 || s[4] == 0xB2 || s[4] == 0xB3)) {
        for (int i = 0; i < 3; i++)
            low[i] = (char)(s[i] | 0x20);
        return (s[0] < 0x80 && s[1] < 0x80 && s[2] < 0x80) &&
               (memcmp(low, "com", 3) == 0 || memcmp(low, "lpt", 3) == 0);
    }
    if (len < 3 || len > 7) return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 0x80) return false;
        low[n++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] | 0x20 : s[i]);
    }
    low[n] = 0;
    if (!strcmp(low, "con") || !strcmp(low, "prn") || !strcmp(low, "aux") || !strcmp(low, "nul") ||
        !strcmp(low, "conin$") || !strcmp(low, "conout$"))
        return true;
    return n == 4 && (!memcmp(low, "com", 3) || !memcmp(low, "lpt", 3)) && low[3] >= '0' &&
           low[3] <= '9';
}

const char *xfer_path_component_problem(const char *c, size_t len)
{
    const unsigned char *s = (const unsigned char *)c;
    if (!c || len == 0) return "empty";
    if (len > XFER_MAX_NAME_BYTES) return "longer than 255 bytes";
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return "dot component";
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = pd_utf8_next(s, len, i, &cp);
        if (n == 0) return "lone surrogate";
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return "control character";
        if (invisible(cp)) return "invisible or bidi control character";
        if (cp == '/' || cp == '\\') return "path separator";
        if (cp == ':') return "colon (drive letter or NTFS stream)";
        i += n;
    }
    if (s[len - 1] == '.' || s[len - 1] == ' ') return "trailing dot or space";
    /* the part before the first '.', with trailing whitespace removed */
    size_t base = 0, end = 0;
    while (base < len && s[base] != '.') {
        unsigned cp;
        size_t n = pd_utf8_next(s, len, base, &cp);
        /* valid (checked above), but a 0 here would loop for ever and leave
         * cp unset: gcc 12 -O3 says so (-Wmaybe-uninitialized) */
        if (n == 0) return "lone surrogate";
        base += n;
        if (!js_space(cp)) end = base;
    }
    base = end;
    if (device_name(s, base)) return "device name";
    return NULL;
}

const char *xfer_path_name_problem(const char *name, size_t len)
{
    return xfer_path_component_problem(name, len);
}

const char *xfer_path_dir_problem(const char *dir, size_t len)
{
    if (len == 0) return NULL;
    if (!dir) return "empty";
    if (len > XFER_MAX_DIR_BYTES) return "dir longer than 4096 bytes";
    size_t parts = 1;
    for (size_t i = 0; i < len; i++)
        parts += dir[i] == '/';
    if (parts > XFER_MAX_DIR_DEPTH) return "dir deeper than 64";
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || dir[i] == '/') {
            const char *r = xfer_path_component_problem(dir + start, i - start);
            if (r) return r;
            start = i + 1;
        }
    }
    return NULL;
}

/* A component that starts with '.' is hidden on Unix, and many are read by
 * programs without the user looking: ~/.config/autostart, ~/.ssh, .git/hooks,
 * .bashrc, .envrc. A receiver accepts them only when its user asked for
 * them (issue 11); this is not a §7 rule, which ".bashrc" passes. */
bool xfer_path_hidden(const char *path, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (path[i] == '.' && (i == 0 || path[i - 1] == '/')) return true;
    return false;
}

bool xfer_path_entry_hidden(const xfer_file_entry *f)
{
    return xfer_path_hidden(f->dir, f->dir_len) || xfer_path_hidden(f->name, f->name_len);
}

const char *xfer_path_manifest_hidden(const xfer_file_entry *files, size_t n, char *buf, size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (xfer_path_entry_hidden(&files[i])) {
            snprintf(buf, cap, "file %u: hidden name (leading dot)", (unsigned)files[i].id);
            return buf;
        }
    return NULL;
}

typedef struct path_key {
    const char *s;
    size_t len;
    size_t idx; /* index in the manifest: ties sort by it */
} path_key;

static int key_cmp(const void *a, const void *b)
{
    const path_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int key_idx_cmp(const void *a, const void *b)
{
    int c = key_cmp(a, b);
    if (c) return c;
    const path_key *x = a, *y = b;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

int xfer_path_manifest_check(const xfer_file_entry *files, size_t n, char *buf, size_t cap,
                             const char **problem)
{
    *problem = NULL;
    if (n == 0) return XFER_OK;
    path_key *paths = calloc(n, sizeof *paths);
    char **owned = calloc(n, sizeof *owned);
    size_t ndirs = 0;
    for (size_t i = 0; i < n; i++) {
        const char *r = xfer_path_name_problem(files[i].name, files[i].name_len);
        if (!r) r = xfer_path_dir_problem(files[i].dir, files[i].dir_len);
        if (r) {
            snprintf(buf, cap, "file %u: %s", (unsigned)files[i].id, r);
            *problem = buf;
            free(paths);
            free(owned);
            return XFER_OK;
        }
        if (files[i].dir_len) {
            ndirs++;
            for (size_t k = 0; k < files[i].dir_len; k++)
                ndirs += files[i].dir[k] == '/';
        }
    }
    path_key *dirs = calloc(ndirs ? ndirs : 1, sizeof *dirs);
    int ret = XFER_OK;
    if (!paths || !owned || !dirs) {
        ret = XFER_E_NOMEM;
        goto done;
    }
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        const xfer_file_entry *f = &files[i];
        if (f->dir_len == 0) {
            paths[i] = (path_key){f->name, f->name_len, i};
            continue;
        }
        size_t len = f->dir_len + 1 + f->name_len;
        owned[i] = malloc(len);
        if (!owned[i]) {
            ret = XFER_E_NOMEM;
            goto done;
        }
        memcpy(owned[i], f->dir, f->dir_len);
        owned[i][f->dir_len] = '/';
        memcpy(owned[i] + f->dir_len + 1, f->name, f->name_len);
        paths[i] = (path_key){owned[i], len, i};
        /* every prefix a/b/c -> a, a/b, a/b/c is a directory */
        for (size_t k = 0; k <= f->dir_len; k++)
            if (k == f->dir_len || f->dir[k] == '/') dirs[d++] = (path_key){f->dir, k, 0};
    }
    /* TS reports the first file (in manifest order) whose path was seen
     * before: the smallest second member of any group of equal paths. */
    qsort(paths, n, sizeof *paths, key_idx_cmp);
    size_t dup = SIZE_MAX;
    for (size_t i = 1; i < n; i++)
        if (key_cmp(&paths[i - 1], &paths[i]) == 0 &&
            (i < 2 || key_cmp(&paths[i - 2], &paths[i])) && paths[i].idx < dup)
            dup = paths[i].idx;
    if (dup != SIZE_MAX) {
        snprintf(buf, cap, "file %u: duplicate path", (unsigned)files[dup].id);
        *problem = buf;
        goto done;
    }
    qsort(dirs, d, sizeof *dirs, key_cmp);
    for (size_t i = 0; i < n; i++) {
        if (bsearch(&paths[i], dirs, d, sizeof *dirs, key_cmp)) {
            snprintf(buf, cap, "a file and a directory share a path");
            *problem = buf;
            goto done;
        }
    }
done:
    if (owned)
        for (size_t i = 0; i < n; i++)
            free(owned[i]);
    free(owned);
    free(paths);
    free(dirs);
    return ret;
}
