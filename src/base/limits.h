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
/* The highest `lane` a relayed offer / answer / ice-candidate may carry:
 * a session of the transfer protocol stripes over at most 15 extra peer
 * connections (docs/protocol.md §5.10, hello.lanes and moreLanes;
 * docs/signaling.md Lanes). 0 is the main connection. */
#define PD_MAX_LANE 15u

/* Default peers per room. */
#define PD_DEFAULT_ROOM_CAPACITY 8u
/* --room-capacity at most: a room is a list scanned per relay and per join. */
#define PD_MAX_ROOM_CAPACITY 1024u

/* Short-code rooms (issue 14, docs/authentication.md "Short codes"): a
 * code has 16 bits of secret and the server checks nothing, so guesses are
 * bounded online. Two members: the sender and one receiver at a time, so
 * a guesser cannot run PAKEs in parallel. At most this many joins over a
 * room's life (then RATE_LIMITED, reason code_room_joins): the sender
 * burns the code after 3 failed PAKE runs anyway; this bounds a sender
 * that does not, to 10 guesses of 65,536 (1 in 6,554). */
#define PD_CODE_ROOM_CAPACITY 2u
#define PD_CODE_ROOM_JOINS 10u

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
/* Password checks in flight per room. Only checks that ran and failed spend
 * a budget (a right password is never refused because others are being
 * checked), so checks in flight can overshoot a room's budget: by at most
 * this many, once per window. Past it, RATE_LIMITED "room_checks_in_flight"
 * with retryAfterMs 1000 (a check takes 0.1-0.5 s). Four lets a few people
 * open one link at once; the per-address overshoot is bounded the same way
 * by --hash-queue-per-address. */
#define PD_ROOM_CHECKS_IN_FLIGHT 4u
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

/* --trust-proxy (PROXY protocol v2): a trusted balancer sends the header
 * first, at once (HAProxy writes it with the connect); one that has not
 * come whole within this is refused (proxy_header), so a stuck peer holds
 * no descriptor for long. The header is 16 bytes plus 12 (IPv4) or 36
 * (IPv6) of addresses plus the TLVs the balancer adds (ALPN, authority,
 * unique id: tens of bytes; TLS details: a few hundred); longer ones are
 * refused rather than buffered. */
#define PD_PROXY_HEADER_TIMEOUT_MS 5000u
#define PD_PROXY_HEADER_MAX 1024u

/* Entries per password-guard table (rooms, addresses, sessions): ~100 bytes
 * each, so at most ~6.5 MiB per table. Entries exist only for jobs in
 * flight and recent failures; past this, the least recently used idle
 * entry is forgotten (refusing would let an attacker with an IPv6 /48, 65,536
 * /64s, lock everyone out; docs/security.md). */
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

/* Many nodes through Redis (docs/scale.md). A node refreshes its heartbeat
 * key every 2 s with a 6 s expiry, so two lost refreshes are tolerated and a
 * SIGKILLed node is seen dead within 6 s; live nodes sweep every 2 s, so its
 * peers are announced as left within ~8 s (issue 15 asks for 20 s). */
#define PD_CLUSTER_TICK_MS 2000u
#define PD_CLUSTER_NODE_TTL_MS 6000u
/* A room record outlives its last live node by at most this: nodes refresh
 * the records of their rooms every 5 ticks (10 s), so 3 refreshes may be
 * lost before a live room expires. */
#define PD_CLUSTER_ROOM_TTL_MS 30000u
#define PD_CLUSTER_ROOM_REFRESH_TICKS 5u
/* Reconnection to Redis: from 100 ms, doubling, at most 5 s apart, so a
 * restarted Redis is found again within 5 s without hammering a dead one. */
#define PD_CLUSTER_BACKOFF_MIN_MS 100u
#define PD_CLUSTER_BACKOFF_MAX_MS 5000u
/* Leaves kept while Redis is away, sent when it is back (~170 bytes each:
 * at most ~700 KiB). Past it, a node's periodic refresh of its rooms drops
 * its members that left, and a room with none expires. */
#define PD_CLUSTER_MAX_LOST_LEAVES 4096u
/* A message from another node: a relayed SDP escaped at worst to 6 bytes a
 * byte, plus the header; anything longer is not ours and is dropped. */
#define PD_MAX_CLUSTER_MSG (PD_MAX_SDP * 6u + 1024u)
/* Redis URL parts: a host name (RFC 1035: 253), a password (Redis has no
 * limit; 512 is far above a generated one). */
#define PD_MAX_REDIS_HOST 253u
#define PD_MAX_REDIS_PASSWORD 512u

/* --- End-to-end authentication (issue 14; docs/authentication.md §7) ---- */

/* A data channel must finish its PAKE within this long of opening, or it is
 * closed with AUTH_FAILED (docs/protocol.md §5.0): the run is two round
 * trips (milliseconds, even relayed), so a peer still silent after 30 s is
 * not going to authenticate, and nothing of ours waits on it longer. The
 * same value as the connection set-up limit (peerdrop(1), NETWORK) and the
 * web app's AUTH_DEADLINE_MS. */
#define PD_AUTH_DEADLINE_MS 30000u

/* An SCTP association's receive buffer (our advertised window), and the
 * most its send buffer grows to from the bandwidth-delay product
 * (src/rtc/sctp.c, tune_send_buffer): the memory a peer can make us hold
 * per association, as data received but not yet read by the transfer, or
 * sent and not yet acknowledged. 32 MiB is what the TCP reference of
 * bench/wan uses, and 1.5 BDP at 150 ms on a 1 Gbit/s path (28 MB). */
#define PD_SCTP_BUFFER_MAX (32 * 1024 * 1024)

/* --- Text snippets and peer names (issue 17; docs/protocol.md §5.9) ---- */

/* The longest text snippet, in UTF-8 bytes, that either app sends or
 * accepts (web/src/protocol/types.ts MAX_TEXT_BYTES). A snippet is a few
 * words, a URL or a short paste, shown in full and held in memory by the
 * receiver; 64 KiB is far more than that, and as JSON (most text is
 * copied unescaped) fits one control message of the maxMsg both apps
 * advertise (262144). The sender checks the encoded message against the
 * peer's maxMsg all the same (control characters grow 6x escaped). */
#define PD_MAX_TEXT_BYTES 65536u
/* Texts sent and not yet acknowledged, per data channel: the sender keeps
 * their ids to match each text-ack; more waiting is refused locally. */
#define PD_MAX_TEXT_PENDING 16u
/* A peer's name or device in its hello ("Blue Fox", a host name): one
 * short line in a list of peers, cleaned and cut to this on receipt;
 * "Adjective Animal" or a host name fits (HOST_NAME_MAX is 64 on Linux;
 * the web app's MAX_PEER_TEXT). */
#define PD_MAX_PEER_NAME_BYTES 64u
/* Lanes (docs/protocol.md §5.10): extra peer connections carrying one
 * session's DATA. Under 0.5 % random loss one SCTP association moves ~0.4
 * MB/s at 50 ms (Mathis, bench/RESULTS.md), more of them more (8: 3.4
 * MB/s, 16: 4.9); each costs a port, a DTLS handshake and an SCTP
 * association's buffers, so a member cannot make us open more than 15.
 * hello.lanes says at most PD_MAX_WIRE_LANES (what endpoints before
 * hello.moreLanes accept); moreLanes says 8..15. */
#define PD_MAX_LANES 15u
#define PD_MAX_WIRE_LANES 7u
/* DATA held by the receiver's merge while an earlier message is still on
 * another lane, in messages (the payload is bounded by the receive window):
 * 16384 is the whole 16 MiB default window in 1 KiB messages, far more
 * than a sender striping 64 KiB messages ever has in flight. */
#define PD_MAX_LANE_HELD_MSGS 16384u
/* The most a sender puts in flight whatever window the receiver's hello
 * claims (docs/protocol.md §5.4): a sender keeps every DATA message in
 * flight until it is acknowledged (lane-resend, §5.11), so a receiver that
 * said a huge `win` and never acknowledged would have us hold the whole
 * file in memory. Twice the 16 MiB every endpoint of ours asks for. */
#define PD_MAX_PEER_WIN (32u << 20)
/* A lane not open within this of its offer is given up (§5.10). */
#define PD_LANE_OPEN_TIMEOUT_MS 10000u
/* The CLI sender offers its files once its lanes are open, or after this:
 * lanes that open under a running transfer took up to 2.5 s on a busy
 * loopback (the session's traffic delays their handshakes), and a file
 * smaller than a few MB was then sent before any lane could carry it. */
#define PD_LANE_OFFER_WAIT_MS 3000u
/* lane-resend (docs/protocol.md §5.11): a lane has stalled when it has had
 * DATA waiting (rtc_channel_backlog > 0) and sent none of it for this long
 * while another channel of the session sent some; its unacknowledged DATA
 * then goes again on the other channels. 1 s is the spec's figure: about
 * one SCTP retransmission timeout (RFC 9260 RTO.Initial) and 10 round trips
 * at 100 ms, so a lane merely slowed by a loss recovers before it. */
#define PD_LANE_STALL_MS 1000u
/* ... looked at this often (a timer while lane-resend is agreed and we
 * send; a stall is noticed 1 to 1.25 s after it began) */
#define PD_LANE_STALL_POLL_MS 250u

#endif
