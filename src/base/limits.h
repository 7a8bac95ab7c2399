/* limits.h: every size ceiling in one place, each with its reason.
 * Anything read off the wire is checked against one of these before use. */
#ifndef PD_LIMITS_H
#define PD_LIMITS_H

/* An HTTP request head: socket.io clients send < 1 KiB; browsers with cookies
 * stay well under 8 KiB, the limit nginx and Node use by default. */
#define PD_MAX_HTTP_HEAD (8u * 1024u)
#define PD_MAX_HTTP_HEADERS 48u

/* Engine.IO maxPayload / Socket.IO maxHttpBufferSize: the reference default
 * (1e6 bytes). Signaling carries SDP and ICE only; an SDP is a few KiB. */
#define PD_DEFAULT_MAX_PAYLOAD 1000000u

/* socket.io-parser's maxAttachments default. */
#define PD_MAX_SIO_ATTACHMENTS 10u

/* Namespace names are short paths; the reference has no limit, 256 is plenty. */
#define PD_MAX_SIO_NSP 256u

/* Namespaces one Engine.IO connection may join at once. */
#define PD_MAX_SIO_NAMESPACES 8u

/* Room ids are 1..128 chars of [A-Za-z0-9_-] (a UUID is 36). */
#define PD_MAX_ROOM_ID 128u

/* Passwords: Argon2id takes any length, but hashing megabytes is a DoS. */
#define PD_MAX_PASSWORD 1024u

/* An SDP from Chromium with many candidates is < 10 KiB; 64 KiB is generous. */
#define PD_MAX_SDP 65536u
/* One ICE candidate line is < 512 bytes. */
#define PD_MAX_CANDIDATE 4096u

/* Default peers per room. */
#define PD_DEFAULT_ROOM_CAPACITY 8u

/* Output queued for one connection before we stop reading from it. */
#define PD_MAX_CONN_OUTPUT (4u * 1024u * 1024u)

/* Password guessing (issue 11, item 2): wrong passwords are counted per
 * room, per client address and per Engine.IO session, so that reconnecting
 * or renewing the namespace does not reset them. A room whose budget is
 * used up refuses every check until its window ends, and each further
 * window used up in a row doubles that lockout, up to the maximum: then a
 * room sees at most 10 guesses per 5 minutes, ~2900 a day, against
 * passwords the web app makes of 128 random bits. Ten per minute leaves
 * room for people who mistype a few times. */
#define PD_DEFAULT_ROOM_PASSWORD_FAILURES 10u
/* One address (an IPv6 /64) guessing across rooms; a household or office
 * behind one NAT mistypes far less than this. */
#define PD_DEFAULT_ADDRESS_PASSWORD_FAILURES 30u
#define PD_SESSION_PASSWORD_FAILURES 5u
#define PD_PASSWORD_WINDOW_MS 60000u
#define PD_PASSWORD_BACKOFF_MAX_MS (5u * 60000u)

/* Pending Argon2 jobs (issue 11, item 3: 300 queued create-room jobs made a
 * stranger's create-room wait 9.5 s). One "interactive" create-room took
 * 120-450 ms on the 2-core test machine at load average 8, so with the
 * default 2 hashing threads a full queue of 32 waits 2-7 s there: the
 * global cap is the backstop against many addresses. One address may hold 4
 * (a few people behind one NAT), so a stranger waits for at most 4 of one
 * attacker's jobs; one session 1 (a client asks one room at a time). A
 * socket's queued job is cancelled when it disconnects. */
#define PD_DEFAULT_HASH_QUEUE 32u
#define PD_DEFAULT_HASH_QUEUE_PER_ADDRESS 4u
#define PD_HASH_QUEUE_PER_SESSION 1u

/* Entries per password-guard table (rooms, addresses, sessions): ~100 bytes
 * each, so at most ~6.5 MiB per table. Past it, checks are refused
 * (RATE_LIMITED) rather than forgotten. */
#define PD_MAX_GUARD_ENTRIES 65536u

/* A room member's TURN credential (issue 11, item 9). coturn checks its
 * expiry at the Allocate only (later requests of that TURN session reuse
 * the key), so it must cover ICE set-up and a reconnection, not the
 * transfer; clients fetch a new one (`ice-servers`) at half its life. 20
 * minutes bounds what a leaked credential relays for. */
#define PD_DEFAULT_TURN_TTL_S 1200u

/* /metrics tells who is busy and what is refused: loopback only unless the
 * operator opens it to a scraper's address. */
#define PD_DEFAULT_METRICS_ALLOW "127.0.0.0/8,::1"

#endif
