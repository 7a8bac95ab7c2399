/* log.c: formats a line and writes it to stderr in one write(2), so lines
 * from the main thread and the hashing workers never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static pd_log_level g_level = PD_LOG_LEVEL_INFO;
static bool g_json = false;

void pd_log_set_level(pd_log_level level)
{
    g_level = level;
}

pd_log_level pd_log_get_level(void)
{
    return g_level;
}

void pd_log_set_json(bool json)
{
    g_json = json;
}

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

bool pd_log_level_parse(const char *name, pd_log_level *out)
{
    static const char *const lower[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i <= PD_LOG_LEVEL_OFF; i++) {
        if (strcmp(name, lower[i]) == 0) {
            *out = (pd_log_level)i;
            return true;
        }
    }
    return false;
}

void pd_log_escape(const void *in, size_t in_len, char *out, size_t out_cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = in;
    size_t o = 0;
    if (out_cap == 0) return;
    for (size_t i = 0; i < in_len; i++) {
        unsigned char c = p[i];
        char tmp[4];
        size_t n;
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            n = 2;
        } else if (c < 0x20 || c >= 0x7f) {
            tmp[0] = '\\';
            tmp[1] = 'x';
            tmp[2] = hex[c >> 4];
            tmp[3] = hex[c & 15];
            n = 4;
        } else {
            tmp[0] = (char)c;
            n = 1;
        }
        if (o + n + 4 > out_cap) { /* room for "..." and NUL */
            if (o + 4 <= out_cap) memcpy(out + o, "...", 3), o += 3;
            break;
        }
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
}

static void json_escape_into(char *out, size_t cap, size_t *o, const char *s)
{
    for (; *s && *o + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[(*o)++] = '\\';
            out[(*o)++] = (char)c;
        } else if (c < 0x20) {
            *o += (size_t)snprintf(out + *o, cap - *o, "\\u%04x", c);
        } else {
            out[(*o)++] = (char)c;
        }
    }
}

void pd_log_write(pd_log_level level, const char *file, int line, const char *fmt, ...)
{
    char msg[2048];
    char lineb[4096];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char ts[64];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));

    size_t o;
    if (g_json) {
        o = (size_t)snprintf(lineb, sizeof lineb,
                             "{\"ts\":\"%s\",\"level\":\"%s\",\"src\":\"%s:%d\",\"msg\":\"", ts,
                             level_names[level], base, line);
        json_escape_into(lineb, sizeof lineb, &o, msg);
        if (o + 3 < sizeof lineb) lineb[o++] = '"', lineb[o++] = '}';
    } else {
        o = (size_t)snprintf(lineb, sizeof lineb, "%s %-5s %s:%d %s", ts, level_names[level], base,
                             line, msg);
        if (o > sizeof lineb - 2) o = sizeof lineb - 2;
    }
    lineb[o++] = '\n';
    ssize_t w = write(STDERR_FILENO, lineb, o);
    (void)w;
}
