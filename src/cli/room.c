/* room.c: see room.h. */
#include "cli/room.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/lane.h"
#include "cli/link.h"
#include "cli/output.h"
#include "cli/peer.h"
#include "cli/receiver.h"
#include "cli/sender.h"
#include "pake/code.h"

static void take_ice(cli_app *a, json_t *ack);
static void on_join_ack(cli_signal *c, json_t *arg, void *user);
static void on_create_ack(cli_signal *c, json_t *arg, void *user);

size_t cli_room_turn_count(const cli_ice_servers *ice)
{
    size_t n = 0;
    for (size_t i = 0; i < ice->count; i++)
        n += strncmp(ice->list[i].url, "turn", 4) == 0;
    return n;
}

void cli_room_ice_load(cli_app *a)
{
    cli_ice_servers_cleanup(&a->ice);
    if (cli_ice_servers_fetch(a->server, CONFIG_TIMEOUT_MS, &a->ice) < 0) return;
    size_t turn = cli_room_turn_count(&a->ice);
    /* counts only: the URLs may carry credentials in other deployments */
    PD_LOG_DEBUG("ICE servers from /config: %zu STUN, %zu TURN", a->ice.count - turn, turn);
}

void cli_room_ice_stop(cli_app *a)
{
    if (!a->ice_refresh) return;
    g_source_destroy(a->ice_refresh);
    g_source_unref(a->ice_refresh);
    a->ice_refresh = NULL;
}

static void on_ice_ack(cli_signal *c, json_t *arg, void *user)
{
    (void)c;
    cli_app *a = user;
    if (arg && json_is_true(json_object_get(arg, "ok"))) {
        take_ice(a, arg);
        return;
    }
    /* lost connection or refused: keep the list, try again later */
    json_t *retry = json_pack("{s:i}", "iceServersTtl", 4 * ICE_REFRESH_MIN_S);
    take_ice(a, retry);
    json_decref(retry);
}

static gboolean on_ice_refresh(gpointer user)
{
    cli_app *a = user;
    cli_room_ice_stop(a);
    json_t *j = json_object();
    cli_signal_emit(a->sig, "ice-servers", j, on_ice_ack, a);
    json_decref(j);
    return G_SOURCE_REMOVE;
}

/* A create-room / join-room / ice-servers ack: this member's ICE servers,
 * with its own TURN credential, replace the list from /config (peers that
 * exist keep their copy); a refresh is due at half their lifetime. */
static void take_ice(cli_app *a, json_t *ack)
{
    json_t *list = json_object_get(ack, "iceServers");
    if (json_is_array(list)) {
        json_t *wrap = json_pack("{s:O}", "iceServers", list);
        char *text = json_dumps(wrap, JSON_COMPACT);
        cli_ice_servers fresh;
        if (text && cli_ice_servers_parse(text, strlen(text), &fresh) == 0) {
            cli_ice_servers_cleanup(&a->ice);
            a->ice = fresh;
            size_t turn = cli_room_turn_count(&a->ice);
            PD_LOG_DEBUG("ICE servers from the room: %zu STUN, %zu TURN", a->ice.count - turn,
                         turn);
        }
        if (text) {
            /* the text holds the TURN credential */
            memset(text, 0, strlen(text));
            free(text);
        }
        json_decref(wrap);
    }
    json_int_t ttl = json_integer_value(json_object_get(ack, "iceServersTtl"));
    if (ttl <= 0) return;
    cli_room_ice_stop(a);
    json_int_t wait_s = ttl / 2 > ICE_REFRESH_MIN_S ? ttl / 2 : ICE_REFRESH_MIN_S;
    a->ice_refresh = g_timeout_source_new_seconds((guint)wait_s);
    g_source_set_callback(a->ice_refresh, on_ice_refresh, a, NULL);
    g_source_attach(a->ice_refresh, a->ctx);
}

/* create-room / join-room's payload: a code room gets nothing of its
 * code (docs/signaling.md "Code rooms"), a password room the admission
 * value, never the secret. */
static json_t *room_request(const cli_app *a)
{
    if (a->code_mode) return json_pack("{s:s,s:b}", "roomId", a->room, "code", 1);
    return json_pack("{s:s,s:s}", "roomId", a->room, "password", a->admission);
}

static void join_room(cli_app *a)
{
    json_t *j = room_request(a);
    cli_signal_emit(a->sig, "join-room", j, on_join_ack, a);
    json_decref(j);
}

bool cli_room_code_draw(cli_app *a)
{
    /* 1-99 for the first tries, then 1-999, then 1-9999 */
    unsigned range = a->code_tries / CODE_NAMEPLATE_TRIES_PER_RANGE;
    unsigned max = range == 0 ? 99 : range == 1 ? 999 : CODE_NAMEPLATE_MAX;
    short_code c;
    code_random(&c, max);
    a->code_tries++;
    code_format(&c, a->password);
    code_room(&c, a->room);
    int r = cli_secret_derive_prs(a->password, a->room, a->prs);
    if (r != PAKE_OK) {
        cli_say(a, "cannot derive the code's keys: %s", pake_strerror(r));
        return false;
    }
    return true;
}

static void announce_code(cli_app *a)
{
    if (a->json) {
        cli_out_json(a, "code", json_pack("{s:s,s:s}", "code", a->password, "roomId", a->room));
        return;
    }
    if (a->quiet) {
        /* the code is what the user must pass on: printed even with --quiet */
        printf("%s\n", a->password);
        fflush(stdout);
        return;
    }
    printf("\nOn the receiving device, run `peerdrop receive %s`\n"
           "or type the code in the web app's \"Receive\" box:\n\n  %s\n\n"
           "The code works once; after %d wrong attempts it is burnt.\n"
           "\nwaiting for the receiver (Ctrl-C to stop)...\n",
           a->password, a->password, CODE_FAILED_RUNS_MAX);
    fflush(stdout);
}

static void announce_room(cli_app *a)
{
    if (a->room_announced) return;
    a->room_announced = true;
    if (a->code_mode) {
        announce_code(a);
        return;
    }
    char link[2048];
    cli_link_build(a->server, a->room, a->password, link, sizeof link);
    if (a->json) {
        cli_out_json(
            a, "room",
            json_pack("{s:s,s:s,s:s}", "link", link, "roomId", a->room, "password", a->password));
        return;
    }
    if (a->quiet) return;
    printf(
        "\nOpen this link on the receiving device, or run `peerdrop receive '<link>'`:\n\n  %s\n\n",
        link);
    printf("  room:     %s\n  password: %s\n\n", a->room, a->password);
    if (a->tty) cli_link_print_qr(link);
    printf("\nwaiting for receivers (Ctrl-C to stop)...\n");
    fflush(stdout);
}

static const char *ack_error(json_t *arg)
{
    if (!arg) return "CONNECTION_LOST";
    if (json_is_true(json_object_get(arg, "ok"))) return NULL;
    const char *code = json_string_value(json_object_get(json_object_get(arg, "error"), "code"));
    return code ? code : "INTERNAL";
}

static void create_room(cli_app *a)
{
    json_t *j = room_request(a);
    cli_signal_emit(a->sig, "create-room", j, on_create_ack, a);
    json_decref(j);
}

/* The sender took its room back by joining it (a reconnection while
 * receivers held it, docs/signaling.md "A sender that reconnects"): it is
 * the newest member now, but still the one that offers. Its receivers are
 * older: a CLI receiver never offers, and the web app answers our offer and
 * drops its own (the sender ignores offers), so the sender offers to each
 * member it has no connection with, as to a newcomer. */
static void offer_to_members(cli_app *a, json_t *peers)
{
    size_t i;
    json_t *v;
    json_array_foreach(peers, i, v)
    {
        const char *sid = json_string_value(v);
        if (!sid || !*sid || !strcmp(sid, a->self_id) || cli_peer_find(a, sid)) continue;
        cli_say(a, "receiver %.8s is in the room", sid);
        cli_out_json(a, "peer-joined", json_pack("{s:s}", "peer", sid));
        cli_sender_offer_to(a, sid);
    }
}

static void on_join_ack(cli_signal *c, json_t *arg, void *user)
{
    cli_app *a = user;
    const char *err = ack_error(arg);
    if (!err && a->sending) {
        take_ice(a, arg);
        a->room_retakes = 0;
        PD_LOG_INFO("signaling reconnected: back in the room");
        offer_to_members(a, json_object_get(arg, "peers"));
        return;
    }
    if (!err) {
        take_ice(a, arg);
        if (!a->joined) cli_say(a, "joined room, waiting for the sender...");
        a->joined = true;
        cli_out_json(a, "joined", json_pack("{s:s}", "roomId", a->room));
        return;
    }
    if (!strcmp(err, "CONNECTION_LOST")) return; /* on_connected joins again */
    if (a->sending && !strcmp(err, "ALREADY_IN_ROOM")) return;
    /* the receivers that held our room left before we joined: create it again */
    if (a->sending && !strcmp(err, "ROOM_NOT_FOUND") && ++a->room_retakes < ROOM_RETAKE_TRIES) {
        create_room(a);
        return;
    }
    if (a->code_mode && !a->sending) {
        /* what a user who typed a code can act on */
        const char *why = !strcmp(err, "ROOM_NOT_FOUND")
                              ? "no sender is waiting with this code: check its number (the "
                                "code may also be used up or burnt)"
                          : !strcmp(err, "BAD_PASSWORD") ? "that number is not a code's room"
                          : !strcmp(err, "ROOM_FULL")
                              ? "someone else is using this code right now; try again shortly"
                          : !strcmp(err, "RATE_LIMITED")
                              ? "too many attempts with this code or from this address; ask "
                                "the sender for a new code"
                              : NULL;
        if (why)
            cli_say(a, "cannot use the code: %s (%s)", why, err);
        else
            cli_say(a, "cannot join the room: %s", err);
    } else {
        cli_say(a, "cannot join the room: %s", err);
    }
    cli_out_json(a, "error", json_pack("{s:s}", "code", err));
    cli_app_finish(a, EXIT_SIGNALING);
}

static void on_create_ack(cli_signal *c, json_t *arg, void *user)
{
    cli_app *a = user;
    const char *err = ack_error(arg);
    if (!err) {
        take_ice(a, arg);
        if (a->room_announced) PD_LOG_INFO("signaling reconnected: room created again");
        a->room_retakes = 0;
        announce_room(a);
        return;
    }
    if (!strcmp(err, "CONNECTION_LOST")) return;
    /* after a reconnection our receivers may still hold the room: join it */
    if (!strcmp(err, "ROOM_EXISTS") && a->room_announced) {
        join_room(a);
        return;
    }
    /* a code's number in use: another, from a wider range after a few */
    if (!strcmp(err, "ROOM_EXISTS") && a->code_mode) {
        if (a->code_tries >= CODE_NAMEPLATE_TRIES) {
            cli_say(a,
                    "cannot create a code room: %d code numbers tried were all in use; try "
                    "again later, or send without --code",
                    CODE_NAMEPLATE_TRIES);
            cli_out_json(a, "error", json_pack("{s:s}", "code", err));
            cli_app_finish(a, EXIT_SIGNALING);
            return;
        }
        PD_LOG_DEBUG("code room %s exists: drawing another number", a->room);
        if (!cli_room_code_draw(a)) {
            cli_app_finish(a, EXIT_LOCAL);
            return;
        }
        json_t *j = room_request(a);
        cli_signal_emit(c, "create-room", j, on_create_ack, a);
        json_decref(j);
        return;
    }
    cli_say(a, "cannot create the room: %s", err);
    cli_out_json(a, "error", json_pack("{s:s}", "code", err));
    cli_app_finish(a, EXIT_SIGNALING);
}

static void on_connected(cli_signal *c, const char *sid, void *user)
{
    cli_app *a = user;
    PD_LOG_DEBUG("signaling connected");
    /* peers see this id in `from`: the authentication's CI names it */
    snprintf(a->self_id, sizeof a->self_id, "%s", sid ? sid : "");
    if (a->sending) {
        create_room(a);
    } else {
        join_room(a);
    }
}

static void on_disconnected(cli_signal *c, const char *reason, void *user)
{
    cli_app *a = user;
    if (!a->room_announced && !a->joined && cli_signal_failures(c) >= CONNECT_ATTEMPTS) {
        cli_say(a, "cannot reach the server %s: %s", a->server, reason);
        cli_out_json(a, "error",
                     json_pack("{s:s,s:s}", "code", "SERVER_UNREACHABLE", "message", reason));
        cli_app_finish(a, EXIT_SIGNALING);
    }
}

static const char *str_of(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* An offer's or answer's sdp: a string, or an RTCSessionDescriptionInit
 * {type, sdp} of the event's own type (docs/signaling.md; the server
 * relays either shape as it came); "" for anything else. */
static const char *sdp_of(json_t *o, const char *type)
{
    json_t *v = json_object_get(o, "sdp");
    if (json_is_object(v)) {
        const char *t = json_string_value(json_object_get(v, "type"));
        if (!t || strcmp(t, type) != 0) return "";
        return str_of(v, "sdp");
    }
    return str_of(o, "sdp");
}

/* An event's `lane` (docs/signaling.md, Lanes): 0 when absent (the main
 * connection), 1..7 a lane, -1 for anything else (the event is ignored). */
static int lane_of(json_t *o)
{
    json_t *v = json_object_get(o, "lane");
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)PD_MAX_LANES)
        return -1;
    return (int)json_integer_value(v);
}

/* offer, answer, ice-candidate of a lane (lane.h) */
static void on_lane_event(cli_app *a, const char *name, json_t *arg, unsigned k)
{
    cli_peer *p = cli_peer_find(a, str_of(arg, "from"));
    PD_LOG_DEBUG("lane %u: %s from the peer", k, name);
    if (!strcmp(name, "offer") && !a->sending) {
        if (!p) {
            char b[CLI_SHOWN_CAP];
            PD_LOG_INFO("refused lane %u from %s: no session with that member", k,
                        cli_shown(str_of(arg, "from"), b));
            cli_out_json(a, "lane-refused",
                         json_pack("{s:s,s:i,s:s}", "peer", str_of(arg, "from"), "lane",
                                   (json_int_t)k, "reason", "no session with that member"));
            return;
        }
        cli_lane_offer(p, k, sdp_of(arg, "offer"));
    } else if (!strcmp(name, "answer") && p) {
        cli_lane_answer(p, k, sdp_of(arg, "answer"));
    } else if (!strcmp(name, "ice-candidate") && p) {
        json_t *cand = json_object_get(arg, "candidate");
        if (json_is_null(cand) || !cand)
            cli_lane_candidate(p, k, NULL, NULL);
        else
            cli_lane_candidate(p, k, str_of(cand, "candidate"), str_of(cand, "sdpMid"));
    }
}

static void on_event(cli_signal *c, const char *name, json_t *arg, void *user)
{
    cli_app *a = user;
    if (!strcmp(name, "offer") || !strcmp(name, "answer") || !strcmp(name, "ice-candidate")) {
        int k = lane_of(arg);
        if (k < 0) return;
        if (k > 0) return on_lane_event(a, name, arg, (unsigned)k);
    }
    if (!strcmp(name, "user-joined") && a->sending) {
        const char *sid = str_of(arg, "socketId");
        if (!*sid || cli_peer_find(a, sid)) return;
        cli_say(a, "receiver %.8s joined", sid);
        cli_out_json(a, "peer-joined", json_pack("{s:s}", "peer", sid));
        cli_sender_offer_to(a, sid);
    } else if (!strcmp(name, "user-left")) {
        const char *sid = str_of(arg, "socketId");
        if (*sid) g_hash_table_add(a->left, g_strdup(sid));
        if (a->reoffer && !strcmp(sid, a->reoffer_from)) { /* the sender we wait for is gone */
            cli_receiver_stop_wait(a);
            cli_say(a, "the sender left the room");
            cli_app_finish(a, EXIT_TRANSFER);
        }
        cli_peer *p = cli_peer_find(a, sid);
        /* a connected peer does not need the server any more */
        if (p && !p->s) cli_peer_finish(p);
    } else if (!strcmp(name, "offer") && !a->sending) {
        const char *from = str_of(arg, "from");
        cli_peer *old = cli_peer_find(a, from);
        /* connected: the session decides, not a stray offer (a lost one is
         * finished, and this offer is its replacement) */
        if (old && old->s && !old->finished) return;
        /* the sender gave up on an attempt we still wait for: its new offer
         * replaces it (as the web app's answering side does); one that
         * failed already is being reaped */
        if (old && !old->finished) cli_peer_remove(a, old);
        cli_peer *p = cli_peer_new(a, from);
        if (!p) {
            cli_app_finish(a, EXIT_LOCAL);
            return;
        }
        if (cli_peer_set_remote(p, "offer", sdp_of(arg, "offer")) < 0) {
            /* any member of the room can send an offer: a malformed one is
             * ignored (issue 11), and the wait for a good one goes on */
            char b[CLI_SHOWN_CAP];
            PD_LOG_WARN("ignored a malformed connection offer from %.8s", cli_shown(from, b));
            cli_out_json(a, "warning",
                         json_pack("{s:s,s:s,s:s}", "peer", from, "code", "BAD_OFFER", "message",
                                   "ignored a malformed connection offer"));
            cli_peer_finish(p);
            return;
        }
        cli_receiver_stop_wait(a);
    } else if (!strcmp(name, "answer")) {
        cli_peer *p = cli_peer_find(a, str_of(arg, "from"));
        if (p && cli_peer_set_remote(p, "answer", sdp_of(arg, "answer")) < 0) cli_peer_finish(p);
    } else if (!strcmp(name, "ice-candidate")) {
        cli_peer *p = cli_peer_find(a, str_of(arg, "from"));
        if (!p) return;
        json_t *cand = json_object_get(arg, "candidate");
        if (json_is_null(cand) || !cand)
            rtc_peer_add_remote_candidate(p->pc, NULL, NULL);
        else
            rtc_peer_add_remote_candidate(p->pc, str_of(cand, "candidate"), str_of(cand, "sdpMid"));
    } else if (!strcmp(name, "signaling-error")) {
        char e[CLI_SHOWN_CAP], c2[CLI_SHOWN_CAP];
        PD_LOG_WARN("server refused %s: %s", cli_shown(str_of(arg, "event"), e),
                    cli_shown(str_of(arg, "code"), c2));
    }
}

const cli_signal_callbacks cli_room_signal_callbacks = {on_connected, on_disconnected, on_event};
