/* check.h: the smallest test harness that tells what failed and where.
 * CHECK() records a failure and goes on; CHECK_DONE() prints the summary
 * ("N passed, M failed") and gives main's exit code. */
#ifndef PD_CHECK_H
#define PD_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long check_a = (long long)(a), check_b = (long long)(b);                              \
        if (check_a == check_b) {                                                                  \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__,  \
                    #a, #b, check_a, check_b);                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_MEM(a, alen, b, blen)                                                             \
    do {                                                                                           \
        size_t check_al = (size_t)(alen), check_bl = (size_t)(blen);                               \
        if (check_al == check_bl && memcmp((a), (b), check_al) == 0) {                             \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%.*s\" vs \"%.*s\")\n", __FILE__,    \
                    __LINE__, #a, #b, (int)check_al, (const char *)(a), (int)check_bl,             \
                    (const char *)(b));                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(a, b) CHECK_EQ_MEM((a), strlen(a), (b), strlen(b))

#define CHECK_DONE()                                                                               \
    (printf("%d passed, %d failed\n", check_passed, check_failed), check_failed ? 1 : 0)

#endif
