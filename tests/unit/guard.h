/* guard.h: copies test input to the very end of a page followed by an
 * unmapped page (picohttpparser's test trick), so a parser that reads one
 * byte too far crashes at once, with or without ASan. */
#ifndef PD_TEST_GUARD_H
#define PD_TEST_GUARD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct guarded {
    uint8_t *map;
    size_t map_len;
    void *data; /* the copy: its last byte is the page's last byte */
} guarded;

static inline guarded guard_copy(const void *src, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (len + page - 1) / page + 1;
    guarded g = {0};
    g.map_len = pages * page;
    void *m = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "mmap failed\n");
        exit(2);
    }
    g.map = m;
    mprotect(g.map + (pages - 1) * page, page, PROT_NONE);
    g.data = g.map + (pages - 1) * page - len;
    if (len) memcpy(g.data, src, len);
    return g;
}

static inline void guard_free(guarded *g)
{
    munmap(g->map, g->map_len);
}

#endif
