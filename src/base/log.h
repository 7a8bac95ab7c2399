/* log.h: one leveled, structured log sink (stderr).
 *
 * Lines look like `2026-11-25T15:00:00.123Z INFO server.c:42 listening host=... port=...`
 * or, with pd_log_set_json(true), one JSON object per line.
 * Never pass passwords, hashes, TURN secrets, ICE passwords or SDP bodies here;
 * bytes from peers go through pd_log_escape() first. */
#ifndef PD_LOG_H
#define PD_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    PD_LOG_LEVEL_DEBUG,
    PD_LOG_LEVEL_INFO,
    PD_LOG_LEVEL_WARN,
    PD_LOG_LEVEL_ERROR,
    PD_LOG_LEVEL_OFF
} pd_log_level;

void pd_log_set_level(pd_log_level level);
pd_log_level pd_log_get_level(void);
/* Parses "debug", "info", "warn", "error", "off"; returns false if unknown. */
bool pd_log_level_parse(const char *name, pd_log_level *out);
void pd_log_set_json(bool json);

void pd_log_write(pd_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copies at most out_cap-1 chars of untrusted bytes into out, escaping
 * non-printables, quotes and backslashes; cuts long input with "...". */
void pd_log_escape(const void *in, size_t in_len, char *out, size_t out_cap);

#define PD_LOG_AT(lvl, ...)                                                                        \
    do {                                                                                           \
        if ((lvl) >= pd_log_get_level()) pd_log_write((lvl), __FILE__, __LINE__, __VA_ARGS__);     \
    } while (0)
#define PD_LOG_DEBUG(...) PD_LOG_AT(PD_LOG_LEVEL_DEBUG, __VA_ARGS__)
#define PD_LOG_INFO(...) PD_LOG_AT(PD_LOG_LEVEL_INFO, __VA_ARGS__)
#define PD_LOG_WARN(...) PD_LOG_AT(PD_LOG_LEVEL_WARN, __VA_ARGS__)
#define PD_LOG_ERROR(...) PD_LOG_AT(PD_LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
