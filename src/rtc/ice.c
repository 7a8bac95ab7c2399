/* ice.c: see ice.h. */
#include "ice.h"

#include <agent.h>
#include <gio/gio.h>
#include <interfaces.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/limits.h"
#include "../base/log.h"
#include "sdp.h"

/* Socket buffers for the selected UDP socket: at 100 MB/s a 208 KiB default
 * receive buffer holds ~2 ms of traffic, and every overflow costs an SCTP
 * retransmission. libnice never sets it (notes §3). The kernel caps the
 * value at net.core.rmem_max unless we may force it. */
#define ICE_SOCKET_BUFFER (4 * 1024 * 1024)
#define ICE_PACING_MS 10

struct rtc_ice {
    NiceAgent *agent;
    GMainContext *ctx;
    guint stream;
    rtc_ice_callbacks cb;
    void *user;
    char *ufrag, *pwd;
    bool connected, failed;
    bool relay_only;
    unsigned local_candidates; /* reported so far */
    bool remote_done;          /* end-of-candidates seen */
    int mdns_pending;          /* lookups in flight; gathering-done waits for them */
    GCancellable *cancel;      /* cancels mDNS lookups on destroy */
    unsigned send_failures;
};

/* ---- ICE servers ---- */

typedef struct server_addr {
    char host[256];
    uint16_t port;
    bool turn, tcp, tls;
} server_addr;

/* "stun:host[:port]", "turn:host[:port][?transport=udp|tcp]", "turns:...".
 * IPv6 literals come in brackets (RFC 7064/7065). */
static bool parse_server_url(const char *url, server_addr *out)
{
    memset(out, 0, sizeof *out);
    const char *p;
    if (strncmp(url, "stun:", 5) == 0) {
        p = url + 5;
        out->port = 3478;
    } else if (strncmp(url, "turn:", 5) == 0) {
        p = url + 5;
        out->turn = true;
        out->port = 3478;
    } else if (strncmp(url, "turns:", 6) == 0) {
        p = url + 6;
        out->turn = out->tls = out->tcp = true;
        out->port = 5349;
    } else {
        return false;
    }
    const char *q = strchr(p, '?');
    size_t hostport_len = q ? (size_t)(q - p) : strlen(p);
    const char *host = p, *port = NULL;
    size_t host_len = hostport_len;
    if (*p == '[') {
        const char *rb = memchr(p, ']', hostport_len);
        if (!rb) return false;
        host = p + 1;
        host_len = (size_t)(rb - host);
        if (rb + 1 < p + hostport_len && rb[1] == ':') port = rb + 2;
    } else {
        const char *colon = memchr(p, ':', hostport_len);
        if (colon) {
            host_len = (size_t)(colon - p);
            port = colon + 1;
        }
    }
    if (host_len == 0 || host_len >= sizeof out->host) return false;
    memcpy(out->host, host, host_len);
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (v <= 0 || v > 65535 || end != p + hostport_len) return false;
        out->port = (uint16_t)v;
    }
    if (q && strstr(q, "transport=tcp")) out->tcp = true;
    return true;
}

/* libnice wants a numeric address. Server names are resolved once, here:
 * this blocks the loop for one DNS lookup at peer creation, which happens
 * before any connection exists. */
static bool resolve_numeric(const char *host, char *out, size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) return false;
    int rc =
        getnameinfo(res->ai_addr, res->ai_addrlen, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST);
    freeaddrinfo(res);
    return rc == 0;
}

static void apply_servers(rtc_ice *ice, const rtc_ice_server *servers, size_t n)
{
    bool have_stun = false;
    for (size_t i = 0; i < n; i++) {
        server_addr a;
        char ip[INET6_ADDRSTRLEN + 1];
        if (!servers[i].url || !parse_server_url(servers[i].url, &a)) {
            PD_LOG_WARN("ice: ignoring an ICE server URL we cannot parse");
            continue;
        }
        if (!resolve_numeric(a.host, ip, sizeof ip)) {
            PD_LOG_WARN("ice: cannot resolve ICE server host");
            continue;
        }
        if (!a.turn) {
            if (have_stun) continue; /* libnice takes one STUN server */
            g_object_set(ice->agent, "stun-server", ip, "stun-server-port", (guint)a.port, NULL);
            have_stun = true;
            continue;
        }
        NiceRelayType type = a.tls   ? NICE_RELAY_TYPE_TURN_TLS
                             : a.tcp ? NICE_RELAY_TYPE_TURN_TCP
                                     : NICE_RELAY_TYPE_TURN_UDP;
        if (!nice_agent_set_relay_info(ice->agent, ice->stream, 1, ip, a.port,
                                       servers[i].username ? servers[i].username : "",
                                       servers[i].credential ? servers[i].credential : "", type))
            PD_LOG_WARN("ice: libnice refused a TURN server");
    }
}

/* ---- libnice signals ---- */

static void on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer data)
{
    rtc_ice *ice = data;
    gchar *sdp = nice_agent_generate_local_candidate_sdp(agent, c);
    if (!sdp) return;
    /* libnice writes "a=candidate:..."; trickle messages carry no "a=" */
    const char *s = strncmp(sdp, "a=", 2) == 0 ? sdp + 2 : sdp;
    ice->local_candidates++;
    ice->cb.on_candidate(ice->user, s);
    g_free(sdp);
}

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer data)
{
    rtc_ice *ice = data;
    ice->cb.on_candidate(ice->user, NULL);
    /* relay only and no relayed candidate: the TURN server refused or never
     * answered, and no pair can ever form. Say so now, not at the timeout. */
    if (ice->relay_only && ice->local_candidates == 0 && !ice->failed) {
        ice->failed = true;
        ice->cb.on_failed(ice->user, "no TURN relay address: the TURN server refused our "
                                     "credentials or did not answer");
    }
}

static void raise_socket_buffers(rtc_ice *ice)
{
    GSocket *s = nice_agent_get_selected_socket(ice->agent, ice->stream, 1);
    if (!s) return; /* relayed over TCP, or no pair yet */
    int fd = g_socket_get_fd(s), v = ICE_SOCKET_BUFFER;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    g_object_unref(s);
}

static void on_state_changed(NiceAgent *agent, guint stream_id, guint component, guint state,
                             gpointer data)
{
    rtc_ice *ice = data;
    if ((state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) &&
        !ice->connected) {
        ice->connected = true;
        raise_socket_buffers(ice);
        ice->cb.on_connected(ice->user);
    } else if (state == NICE_COMPONENT_STATE_FAILED && !ice->failed) {
        ice->failed = true;
        ice->cb.on_failed(ice->user, "ICE failed");
    }
}

static void on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                    gpointer data)
{
    rtc_ice *ice = data;
    ice->cb.on_recv(ice->user, (const uint8_t *)buf, len);
}

/* ---- create / destroy ---- */

rtc_ice *rtc_ice_create(GMainContext *ctx, bool controlling, bool relay_only,
                        const rtc_ice_server *servers, size_t server_count,
                        const rtc_ice_callbacks *cb, void *user)
{
    if (!ctx || !cb) return NULL;
    rtc_ice *ice = g_new0(rtc_ice, 1);
    ice->ctx = ctx;
    ice->relay_only = relay_only;
    ice->cb = *cb;
    ice->user = user;
    ice->cancel = g_cancellable_new();
    /* RFC 8445 regular nomination (aggressive is deprecated) and trickle
     * (RFC 8838): the agent waits for end-of-candidates before failing.
     * No CONSENT_FRESHNESS: 0.1.21 times out after 10 s, not RFC 7675's 30 s. */
    ice->agent =
        nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245,
                            NICE_AGENT_OPTION_REGULAR_NOMINATION | NICE_AGENT_OPTION_ICE_TRICKLE);
    if (!ice->agent) goto fail;
    g_object_set(ice->agent, "controlling-mode", controlling, "ice-tcp", FALSE, "upnp", FALSE,
                 "force-relay", (gboolean)relay_only, NULL);
    /* Ta, the pacing of checks: libnice's 20 ms made ICE most of the
     * channel-open time on loopback (66 ms; 36-48 ms with 10). RFC 8445
     * §14.2 allows down to 5 ms; a data-only session has few candidates,
     * so the extra check rate is a handful of small packets. */
    g_object_set(ice->agent, "stun-pacing-timer", (guint)ICE_PACING_MS, NULL);
    ice->stream = nice_agent_add_stream(ice->agent, 1);
    if (!ice->stream) goto fail;
    nice_agent_set_stream_name(ice->agent, ice->stream, "application");
    apply_servers(ice, servers, server_count);
    if (!nice_agent_get_local_credentials(ice->agent, ice->stream, &ice->ufrag, &ice->pwd))
        goto fail;
    g_signal_connect(ice->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), ice);
    g_signal_connect(ice->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), ice);
    g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_state_changed), ice);
    if (!nice_agent_attach_recv(ice->agent, ice->stream, 1, ctx, on_recv, ice)) goto fail;
    return ice;
fail:
    rtc_ice_destroy(ice);
    return NULL;
}

void rtc_ice_destroy(rtc_ice *ice)
{
    if (!ice) return;
    g_cancellable_cancel(ice->cancel); /* mDNS callbacks see this and skip ice */
    g_object_unref(ice->cancel);
    if (ice->agent) {
        /* nothing may call into us once this returns: detach the receive
         * callback and the signals before dropping the agent (libnice's
         * sources live on our own context, so none is mid-dispatch now) */
        if (ice->stream) nice_agent_attach_recv(ice->agent, ice->stream, 1, ice->ctx, NULL, NULL);
        g_signal_handlers_disconnect_by_data(ice->agent, ice);
        if (ice->stream) nice_agent_remove_stream(ice->agent, ice->stream);
        g_object_unref(ice->agent);
    }
    g_free(ice->ufrag);
    g_free(ice->pwd);
    g_free(ice);
}

const char *rtc_ice_local_ufrag(const rtc_ice *ice)
{
    return ice->ufrag;
}

const char *rtc_ice_local_pwd(const rtc_ice *ice)
{
    return ice->pwd;
}

/* libnice skips loopback interfaces when it picks addresses itself, so on
 * a host whose only interface is lo (a network namespace for tests, a
 * sandbox) it finds nothing and gathering fails. Then offer loopback
 * explicitly: peers on the same host can still connect. */
static void add_loopback_if_alone(rtc_ice *ice)
{
    GList *ips = nice_interfaces_get_local_ips(FALSE);
    if (ips) {
        g_list_free_full(ips, g_free);
        return;
    }
    static const char *const loopback[] = {"127.0.0.1", "::1"};
    for (size_t i = 0; i < G_N_ELEMENTS(loopback); i++) {
        NiceAddress a;
        nice_address_init(&a);
        if (nice_address_set_from_string(&a, loopback[i]))
            nice_agent_add_local_address(ice->agent, &a);
    }
    PD_LOG_DEBUG("ice: no interface but loopback; gathering on loopback");
}

int rtc_ice_gather(rtc_ice *ice)
{
    add_loopback_if_alone(ice);
    return nice_agent_gather_candidates(ice->agent, ice->stream) ? 0 : -1;
}

int rtc_ice_set_remote_credentials(rtc_ice *ice, const char *ufrag, const char *pwd)
{
    return nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag, pwd) ? 0 : -1;
}

static void maybe_finish_remote(rtc_ice *ice)
{
    if (ice->remote_done && ice->mdns_pending == 0)
        nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream);
}

/* Hands one "candidate:..." line (NUL-terminated) to libnice. */
static int add_parsed(rtc_ice *ice, const char *line)
{
    /* libnice wants the "a=" prefix (notes §2) */
    char *full = g_strconcat("a=", line, NULL);
    NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream, full);
    g_free(full);
    if (!c) return -1;
    GSList *l = g_slist_append(NULL, c);
    int n = nice_agent_set_remote_candidates(ice->agent, ice->stream, 1, l);
    g_slist_free_full(l, (GDestroyNotify)nice_candidate_free);
    return n >= 0 ? 0 : -1;
}

typedef struct mdns_lookup {
    rtc_ice *ice;         /* not touched if the cancellable fired */
    GCancellable *cancel; /* our ref */
    char *before, *after; /* the candidate line around the address */
} mdns_lookup;

static void on_mdns_resolved(GObject *src, GAsyncResult *res, gpointer data)
{
    mdns_lookup *m = data;
    GError *err = NULL;
    GList *addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(src), res, &err);
    if (!g_cancellable_is_cancelled(m->cancel)) {
        rtc_ice *ice = m->ice;
        ice->mdns_pending--;
        if (addrs) {
            gchar *ip = g_inet_address_to_string(addrs->data);
            gchar *line = g_strconcat(m->before, ip, m->after, NULL);
            if (add_parsed(ice, line) == 0) PD_LOG_DEBUG("ice: mDNS candidate resolved");
            g_free(line);
            g_free(ip);
        } else {
            /* expected without nss-mdns: the browser's checks still reach us */
            PD_LOG_DEBUG("ice: mDNS candidate not resolved; relying on peer-reflexive pairs");
        }
        maybe_finish_remote(ice);
    }
    if (addrs) g_resolver_free_addresses(addrs);
    g_clear_error(&err);
    g_object_unref(m->cancel);
    g_free(m->before);
    g_free(m->after);
    g_free(m);
}

int rtc_ice_add_remote_candidate(rtc_ice *ice, const char *cand, size_t len)
{
    sdp_candidate c;
    if (sdp_candidate_parse(cand, len, &c) != SDP_OK) return -1;
    if (g_ascii_strncasecmp(c.transport.p, "udp", c.transport.len) != 0 || c.component != 1)
        return 0; /* ICE-TCP and RTCP candidates: unused, not an error */
    /* rebuild from the parsed span: drops "a=", trailing CR/space */
    const char *start = c.foundation.p - 10; /* "candidate:" */
    const char *end = cand + len;
    while (end > start && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    if (!sdp_candidate_is_mdns(&c)) {
        char *line = g_strndup(start, (gsize)(end - start));
        int rc = add_parsed(ice, line);
        g_free(line);
        return rc;
    }
    /* libnice parses with AI_NUMERICHOST and would reject the name */
    mdns_lookup *m = g_new0(mdns_lookup, 1);
    m->ice = ice;
    m->cancel = g_object_ref(ice->cancel);
    m->before = g_strndup(start, (gsize)(c.address.p - start));
    m->after = g_strndup(c.address.p + c.address.len, (gsize)(end - (c.address.p + c.address.len)));
    char *name = g_strndup(c.address.p, c.address.len);
    GResolver *r = g_resolver_get_default();
    /* the callback runs on the thread-default context: make it ours */
    g_main_context_push_thread_default(ice->ctx);
    g_resolver_lookup_by_name_async(r, name, ice->cancel, on_mdns_resolved, m);
    g_main_context_pop_thread_default(ice->ctx);
    g_object_unref(r);
    g_free(name);
    ice->mdns_pending++;
    return 0;
}

void rtc_ice_remote_gathering_done(rtc_ice *ice)
{
    ice->remote_done = true;
    maybe_finish_remote(ice);
}

const char *rtc_ice_selected_type(rtc_ice *ice)
{
    NiceCandidate *local = NULL, *remote = NULL;
    if (!nice_agent_get_selected_pair(ice->agent, ice->stream, 1, &local, &remote) || !local)
        return NULL;
    switch (local->type) {
    case NICE_CANDIDATE_TYPE_HOST:
        return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
        return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
        return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
        return "relay";
    }
    return NULL;
}

int rtc_ice_send(rtc_ice *ice, const uint8_t *data, size_t len)
{
    if (len > G_MAXUINT) return -1;
    gint n = nice_agent_send(ice->agent, ice->stream, 1, (guint)len, (const gchar *)data);
    if (n != (gint)len) {
        /* no pair yet, or the socket buffer is full: UDP semantics, the
         * DTLS/SCTP layers above retransmit */
        if (ice->send_failures++ % 1000 == 0)
            PD_LOG_DEBUG("ice: %u sends dropped", ice->send_failures);
        return -1;
    }
    return 0;
}
