/* metrics.h: GET /metrics in the Prometheus text format: connections by
 * transport, rooms, relayed messages, refusals by code. Counters live in
 * the modules that count; this module only reads and formats them. */
#ifndef PD_METRICS_H
#define PD_METRICS_H

#include "base/buf.h"

/* Appends the exposition text to out. */
void metrics_render(pd_buf *out);

#endif
