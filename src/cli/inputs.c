/* inputs.c: see inputs.h. */
#include "cli/inputs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/utf8.h"

/* send --text -: standard input, at most XFER_MAX_TEXT bytes: one byte
 * more is read only to tell that it was over. Returns the length, or -1
 * after saying why on stderr. */
static long read_text_stdin(char *buf)
{
    size_t n = 0;
    while (n <= XFER_MAX_TEXT) {
        ssize_t r = read(0, buf + n, XFER_MAX_TEXT + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            fprintf(stderr, "peerdrop send: standard input: %s\n", strerror(errno));
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n > XFER_MAX_TEXT) {
        fprintf(stderr, "peerdrop send: the text is over %u bytes (the limit of one snippet)\n",
                XFER_MAX_TEXT);
        return -1;
    }
    return (long)n;
}

/* The text of --text: 1 to XFER_MAX_TEXT bytes of UTF-8. 0 or -1. */
int cli_take_text(cli_app *a, const char *arg)
{
    char *buf = malloc(XFER_MAX_TEXT + 1);
    if (!buf) return -1;
    long n = strcmp(arg, "-") ? (long)strlen(arg) : read_text_stdin(buf);
    if (n < 0) goto fail;
    if (strcmp(arg, "-")) {
        if ((size_t)n > XFER_MAX_TEXT) {
            fprintf(stderr, "peerdrop send: the text is over %u bytes (the limit of one snippet)\n",
                    XFER_MAX_TEXT);
            goto fail;
        }
        memcpy(buf, arg, (size_t)n);
    }
    if (n == 0) {
        fprintf(stderr, "peerdrop send: the text is empty\n");
        goto fail;
    }
    if (!pd_utf8_valid((const uint8_t *)buf, (size_t)n)) {
        fprintf(stderr, "peerdrop send: the text is not UTF-8\n");
        goto fail;
    }
    a->text = buf;
    a->text_len = (size_t)n;
    return 0;
fail:
    free(buf);
    return -1;
}

/* --name NAME, or the host name cut to XFER_MAX_PEER_NAME bytes (at a
 * character); a host name that is not UTF-8 is left out. 0, or -1 for a
 * --name that does not fit. */
int cli_take_name(cli_app *a, const char *given)
{
    char host[256] = "";
    const char *n = given;
    if (!n) {
        if (gethostname(host, sizeof host - 1) < 0) return 0;
        n = host;
    }
    size_t len = strlen(n);
    if (given && (len < 1 || len > XFER_MAX_PEER_NAME || !pd_utf8_valid((const uint8_t *)n, len))) {
        fprintf(stderr, "peerdrop: --name takes 1 to %u bytes of UTF-8\n", XFER_MAX_PEER_NAME);
        return -1;
    }
    if (len > XFER_MAX_PEER_NAME) len = XFER_MAX_PEER_NAME;
    while (len > 0 && !pd_utf8_valid((const uint8_t *)n, len))
        len--; /* cut inside a character: back to its start */
    memcpy(a->name, n, len);
    a->name[len] = 0;
    return 0;
}
