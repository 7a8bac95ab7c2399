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

#endif
