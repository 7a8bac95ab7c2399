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

/* --- Connection and session limits (issue 11; docs/security.md) --------- */

/* Output queued for one connection above which we stop reading from it and
 * stop answering its pipelined requests until it drains (backpressure).
 * Above the largest response the app serves (the JS bundle, ~360 KB), so one
 * answer always goes out whole; 30 clients pipelining GETs of it without
 * reading grew the server by 5.9 GB in 8 s before this limit (issue 11). */
#define PD_CONN_OUTPUT_PAUSE (256u * 1024u)

/* WebSocket output caps, after redis's client-output-buffer-limit (pubsub:
 * hard 32 MB, soft 8 MB for 60 s), scaled to what signaling carries: the
 * largest relayed message is one offer (64 KiB of SDP, at most 6x that when
 * every byte is JSON-escaped), and a reading client takes it in
 * milliseconds. Past the hard cap, or above the soft cap for the whole soft
 * period, the client is not reading: its connection is closed (its session
 * ends and its room sees user-left) rather than messages dropped, because a
 * dropped offer or candidate silently breaks the WebRTC negotiation while a
 * closed socket makes the client reconnect and rejoin. A member that stopped
 * reading while others sent 64 KiB offers grew the server from 7 to 190 MB
 * in 4 s before this limit (issue 11). Hard cap: --max-output. */
#define PD_DEFAULT_WS_OUTPUT_HARD (4u * 1024u * 1024u)
#define PD_WS_OUTPUT_SOFT (1024u * 1024u)
#define PD_WS_OUTPUT_SOFT_MS 10000u

/* Output waiting that the kernel has not taken a byte of for this long: the
 * client stopped reading (a zero window is probed for ever, and TCP's own
 * timeouts do not end it). Closed, so a non-reading client cannot hold its
 * buffers and fd; 30 s is far above any real stall on a live link. */
#define PD_CONN_STALL_MS 30000u

/* After a close is asked for, queued output (a last answer, a close frame)
 * gets this long to drain, then the connection is dropped: before, a
 * connection and its 190 MB of output outlived its session by 70+ s. */
#define PD_CONN_CLOSE_DRAIN_MS 5000u

/* TCP_USER_TIMEOUT (RFC 5482, Linux tcp(7)): data unacknowledged for this
 * long ends the connection, so a peer that vanished does not hold the
 * kernel's buffers for the ~15 minutes of default retransmissions. */
#define PD_TCP_USER_TIMEOUT_MS 30000u

/* An absolute deadline for a complete request head, from its first byte,
 * not restarted by each byte: a byte every 10 s otherwise held a connection
 * for ever (slowloris). Browsers send a head in one packet; 10 s covers a
 * slow mobile link (nginx client_header_timeout is 60 s, Apache's
 * mod_reqtimeout 20-40 s). --head-timeout. */
#define PD_DEFAULT_HEAD_TIMEOUT_MS 10000u

/* Open connections per client address (IPv4, or IPv6 /64). A browser tab
 * holds one WebSocket plus up to 6 parallel requests while loading, so 256
 * lets ~40 people behind one office NAT load the app at the same moment
 * and hundreds keep a tab open; one client held 19,985 connections and
 * locked every new user out before this limit. --max-conns-per-ip. */
#define PD_DEFAULT_MAX_CONNS_PER_IP 256u

/* File descriptors kept in reserve below RLIMIT_NOFILE. Inside the reserve
 * only an address holding fewer than PD_FD_RESERVE_PER_IP connections gets
 * one, so a newcomer, /healthz and the static files still get a descriptor
 * when one client has taken all the others; the last PD_FD_RESERVE_HARD
 * are never handed to a connection (static file open(), libuv's own). */
#define PD_FD_RESERVE 64u
#define PD_FD_RESERVE_HARD 16u
#define PD_FD_RESERVE_PER_IP 4u

/* Engine.IO sessions (polling or WebSocket, handshakes never upgraded
 * included) per client address and in all. A session costs ~2 KB with its
 * Socket.IO state; one client opened 200,000 over one keep-alive connection
 * in 11 s before these limits (issue 11). Per address as connections, for
 * the same NAT'd office; in all, 65536 sessions stay under ~150 MB.
 * --max-sessions-per-ip, --max-sessions. */
#define PD_DEFAULT_MAX_SESSIONS_PER_IP 256u
#define PD_DEFAULT_MAX_SESSIONS 65536u

/* Where a namespace takes binary events (the conformance fixtures): the
 * attachments of one packet may total one maxPayload, and must all arrive
 * within this long of their packet. socket.io-client sends them in the same
 * tick; 9 of 10 attachments of ~1 MB were held for ever before (issue 11). */
#define PD_SIO_ATTACHMENT_TIMEOUT_MS 5000u

#endif
