/* metrics.c: see metrics.h. */
#include "metrics.h"

#include <inttypes.h>

#include "base/refused.h"
#include "cluster.h"
#include "engine.h"
#include "net/conn.h"
#include "signaling.h"
#include "socketio.h"

void metrics_render(pd_buf *out)
{
    engine_stats es;
    signaling_stats ss;
    engine_get_stats(&es);
    signaling_get_stats(&ss);
    pd_buf_printf(out,
                  "# HELP peerdrop_tcp_connections Open TCP connections (HTTP and WebSocket).\n"
                  "# TYPE peerdrop_tcp_connections gauge\n"
                  "peerdrop_tcp_connections %zu\n"
                  "# HELP peerdrop_sessions Engine.IO sessions by transport.\n"
                  "# TYPE peerdrop_sessions gauge\n"
                  "peerdrop_sessions{transport=\"polling\"} %zu\n"
                  "peerdrop_sessions{transport=\"websocket\"} %zu\n"
                  "# HELP peerdrop_upgrades_total Sessions upgraded from polling to WebSocket.\n"
                  "# TYPE peerdrop_upgrades_total counter\n"
                  "peerdrop_upgrades_total %" PRIu64 "\n"
                  "# HELP peerdrop_sockets Socket.IO namespace sockets.\n"
                  "# TYPE peerdrop_sockets gauge\n"
                  "peerdrop_sockets %zu\n"
                  "# HELP peerdrop_rooms Rooms that exist now.\n"
                  "# TYPE peerdrop_rooms gauge\n"
                  "peerdrop_rooms %zu\n"
                  "# HELP peerdrop_rooms_created_total Rooms created.\n"
                  "# TYPE peerdrop_rooms_created_total counter\n"
                  "peerdrop_rooms_created_total %" PRIu64 "\n"
                  "# HELP peerdrop_joins_total Successful room joins.\n"
                  "# TYPE peerdrop_joins_total counter\n"
                  "peerdrop_joins_total %" PRIu64 "\n"
                  "# HELP peerdrop_relayed_total Signaling messages relayed between peers.\n"
                  "# TYPE peerdrop_relayed_total counter\n"
                  "peerdrop_relayed_total{event=\"offer\"} %" PRIu64 "\n"
                  "peerdrop_relayed_total{event=\"answer\"} %" PRIu64 "\n"
                  "peerdrop_relayed_total{event=\"ice-candidate\"} %" PRIu64 "\n"
                  "# HELP peerdrop_refusals_total Refused client requests by error code.\n"
                  "# TYPE peerdrop_refusals_total counter\n",
                  pd_conn_count(), es.sessions_polling, es.sessions_websocket, es.upgrades,
                  srv_sio_socket_count(), ss.rooms, ss.rooms_created, ss.joins,
                  ss.relayed[SIG_RELAY_OFFER], ss.relayed[SIG_RELAY_ANSWER],
                  ss.relayed[SIG_RELAY_ICE]);
    for (int e = 0; e < SIG_ERROR_COUNT; e++)
        pd_buf_printf(out, "peerdrop_refusals_total{code=\"%s\"} %" PRIu64 "\n",
                      sig_error_code((sig_error)e), ss.refusals[e]);
    pd_buf_printf(out,
                  "# HELP peerdrop_hash_jobs Password hashing jobs queued or running.\n"
                  "# TYPE peerdrop_hash_jobs gauge\n"
                  "peerdrop_hash_jobs %u\n"
                  "# HELP peerdrop_hash_jobs_cancelled_total Queued hashing jobs dropped because "
                  "their client left.\n"
                  "# TYPE peerdrop_hash_jobs_cancelled_total counter\n"
                  "peerdrop_hash_jobs_cancelled_total %" PRIu64 "\n"
                  "# HELP peerdrop_guard_evicted_total Password-guard entries (failure budgets) "
                  "forgotten because their table was full (docs/security.md).\n"
                  "# TYPE peerdrop_guard_evicted_total counter\n"
                  "peerdrop_guard_evicted_total %" PRIu64 "\n",
                  ss.jobs_pending, ss.jobs_cancelled, ss.guard_evicted);
    if (cluster_enabled()) {
        cluster_stats cs;
        cluster_get_stats(&cs);
        pd_buf_printf(out,
                      "# HELP peerdrop_redis_up 1 while both links to Redis are up (--redis).\n"
                      "# TYPE peerdrop_redis_up gauge\n"
                      "peerdrop_redis_up %d\n"
                      "# HELP peerdrop_redis_reconnects_total Reconnection attempts to Redis.\n"
                      "# TYPE peerdrop_redis_reconnects_total counter\n"
                      "peerdrop_redis_reconnects_total %" PRIu64 "\n"
                      "# HELP peerdrop_cluster_messages_total Messages between nodes (relay, "
                      "joins, leaves).\n"
                      "# TYPE peerdrop_cluster_messages_total counter\n"
                      "peerdrop_cluster_messages_total{direction=\"out\"} %" PRIu64 "\n"
                      "peerdrop_cluster_messages_total{direction=\"in\"} %" PRIu64 "\n",
                      cs.up ? 1 : 0, cs.reconnects, ss.cluster_out, ss.cluster_in);
        pd_buf_printf(out,
                      "# HELP peerdrop_cluster_dropped_total Messages from other nodes dropped: "
                      "malformed, or for no member here.\n"
                      "# TYPE peerdrop_cluster_dropped_total counter\n"
                      "peerdrop_cluster_dropped_total %" PRIu64 "\n"
                      "# HELP peerdrop_cluster_relay_latency_seconds Relay from another node: its "
                      "wall clock at sending to ours at receiving (needs synchronised clocks).\n"
                      "# TYPE peerdrop_cluster_relay_latency_seconds histogram\n",
                      ss.cluster_dropped);
        static const unsigned bounds[SIG_LATENCY_BUCKETS] = SIG_LATENCY_BOUNDS_US;
        for (int i = 0; i < SIG_LATENCY_BUCKETS; i++)
            pd_buf_printf(out,
                          "peerdrop_cluster_relay_latency_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                          bounds[i] / 1e6, ss.cluster_latency[i]);
        pd_buf_printf(out,
                      "peerdrop_cluster_relay_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
                      "peerdrop_cluster_relay_latency_seconds_sum %.6f\n"
                      "peerdrop_cluster_relay_latency_seconds_count %" PRIu64 "\n",
                      ss.cluster_latency_count, ss.cluster_latency_sum_us / 1e6,
                      ss.cluster_latency_count);
    }
    pd_buf_printf(out,
                  "# HELP peerdrop_refused_total Connections, sessions, packets and room requests "
                  "refused or cut off by a limit, by limit (docs/security.md).\n"
                  "# TYPE peerdrop_refused_total counter\n");
    for (int r = 0; r < PD_REFUSAL_COUNT; r++)
        pd_buf_printf(out, "peerdrop_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                      pd_refusal_name((pd_refusal)r), pd_refused_count((pd_refusal)r));
    /* The password guard's refusals (room requests answered RATE_LIMITED) are
     * limits too: one family, so one alert rule sees every limit that bites. */
    for (int v = 1; v < PG_VERDICT_COUNT; v++)
        pd_buf_printf(out, "peerdrop_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                      pg_verdict_name((pg_verdict)v), ss.guard_refusals[v]);
    pd_buf_printf(out, "peerdrop_refused_total{reason=\"code_room_joins\"} %" PRIu64 "\n",
                  ss.code_room_join_refusals);
}
