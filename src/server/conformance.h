/* conformance.h: the fixtures the official Engine.IO v4 and Socket.IO v5
 * test suites expect (docs/server-cli.md, "Conformance fixtures"). Only used
 * with --conformance; the product never runs them. */
#ifndef PD_CONFORMANCE_H
#define PD_CONFORMANCE_H

#include <stddef.h>

#include "engine.h"
#include "socketio.h"

/* Engine.IO echo: every message packet goes back as it came. */
extern const engine_callbacks conformance_eio_callbacks;

/* Socket.IO fixture namespaces: "/" and "/custom". */
extern const sio_namespace_def conformance_sio_namespaces[];
extern const size_t conformance_sio_namespace_count;

#endif
