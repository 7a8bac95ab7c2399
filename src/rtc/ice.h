/* ice.h: ICE transport for one data-channel m-section, on libnice.
 *
 * One stream with one component (RTCP is never needed: data channels only,
 * and BUNDLE puts everything on one 5-tuple). The agent runs on the
 * caller's GMainContext; every callback comes from it. Candidates travel
 * as SDP attribute text ("candidate:..."), so the SDP layer never sees a
 * libnice type. Chromium's mDNS ".local" host candidates are resolved
 * asynchronously (GResolver: nss-mdns if installed) and dropped if that
 * fails: Chromium's own checks still reach us and form peer-reflexive
 * pairs (libnice >= 0.1.19). This is the only rtc module with sockets. */
#ifndef PD_RTC_ICE_H
#define PD_RTC_ICE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtc.h"

typedef struct rtc_ice rtc_ice;

typedef struct rtc_ice_callbacks {
    /* "candidate:..." (no "a="), or NULL when gathering is done */
    void (*on_candidate)(void *user, const char *candidate);
    /* a pair is selected: data can flow */
    void (*on_connected)(void *user);
    void (*on_failed)(void *user, const char *reason);
    /* one datagram that is not STUN (libnice keeps STUN) */
    void (*on_recv)(void *user, const uint8_t *data, size_t len);
} rtc_ice_callbacks;

/* controlling: the offerer controls (RFC 8445 §6.1.1; JSEP RFC 8829 §3.5.1).
 * relay_only: gather and use only TURN relayed candidates (the browser's
 * iceTransportPolicy "relay"): the peer never learns our addresses. */
rtc_ice *rtc_ice_create(GMainContext *ctx, bool controlling, bool relay_only,
                        const rtc_ice_server *servers, size_t server_count,
                        const rtc_ice_callbacks *cb, void *user);
void rtc_ice_destroy(rtc_ice *ice);

/* Our credentials (valid until destroy). */
const char *rtc_ice_local_ufrag(const rtc_ice *ice);
const char *rtc_ice_local_pwd(const rtc_ice *ice);
/* Starts gathering; candidates arrive through on_candidate. */
int rtc_ice_gather(rtc_ice *ice);
int rtc_ice_set_remote_credentials(rtc_ice *ice, const char *ufrag, const char *pwd);
/* "candidate:..." or "a=candidate:...", len bytes. 0 if taken or deferred
 * (mDNS lookup), -1 if malformed. */
int rtc_ice_add_remote_candidate(rtc_ice *ice, const char *cand, size_t len);
void rtc_ice_remote_gathering_done(rtc_ice *ice);
/* The type of our side of the selected pair: "host", "srflx", "prflx" or
 * "relay" (RFC 8445 §5.1.1); NULL before a pair is selected. */
const char *rtc_ice_selected_type(rtc_ice *ice);
/* Sends one datagram on the selected pair. Returns 0 or -1. */
int rtc_ice_send(rtc_ice *ice, const uint8_t *data, size_t len);

#endif
