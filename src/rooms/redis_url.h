/* redis_url.h: parses the --redis URL (docs/scale.md), no I/O.
 *
 *   redis://[[user]:password@]host[:port][/db]
 *
 * rediss:// (TLS) is refused with a message: Debian's libhiredis-dev 0.14
 * ships no hiredis_ssl. */
#ifndef PD_REDIS_URL_H
#define PD_REDIS_URL_H

#include <stdbool.h>

#include "../base/limits.h"

typedef struct redis_url {
    char host[PD_MAX_REDIS_HOST + 1];
    int port; /* default 6379 */
    char user[64];
    char password[PD_MAX_REDIS_PASSWORD + 1]; /* empty: no AUTH */
    unsigned db;                              /* default 0 */
} redis_url;

/* Returns true and fills out, or false with a reason in err (never the
 * password). */
bool redis_url_parse(const char *url, redis_url *out, const char **err);

#endif
