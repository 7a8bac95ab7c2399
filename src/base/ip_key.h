/* ip_key.h: client addresses and the keys per-address limits count them by.
 * The one place that turns an address (text, a sockaddr, or a PROXY
 * protocol header's bytes) into a key; ip_count (connections, sessions),
 * the password guard (wrong-password budgets) and cidr (--metrics-allow,
 * --trust-proxy) all go through it. Pure, no I/O.
 *
 * An address is 16 bytes, IPv4 as ::ffff:a.b.c.d, so an IPv4-mapped IPv6
 * address (a dual-stack socket's view of an IPv4 client) is that IPv4
 * address. A key is an IPv4 address, or an IPv6 /64: one host or one home
 * gets a whole /64 (RFC 7934 section 6, RFC 6177), so counting single IPv6
 * addresses would let one client take 2^64 budgets. */
#ifndef PD_IP_KEY_H
#define PD_IP_KEY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct pd_ip {
    uint8_t bytes[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
} pd_ip;

typedef struct pd_ip_key {
    uint8_t bytes[16]; /* IPv4 as ::ffff:a.b.c.d; IPv6 with the low 64 bits zero */
} pd_ip_key;

/* Longest pd_ip_to_text / pd_ip_key_text output, with its NUL. */
#define PD_IP_TEXT_LEN 64

/* Parses a numeric address ("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1").
 * False (out zeroed) for anything else. */
bool pd_ip_from_text(const char *text, pd_ip *out);
/* From an AF_INET or AF_INET6 sockaddr; false (out zeroed) for others. */
bool pd_ip_from_sockaddr(const struct sockaddr *sa, pd_ip *out);
/* From 4 (IPv4) or 16 (IPv6) bytes in network order. */
void pd_ip_from_v4_bytes(const uint8_t b[4], pd_ip *out);
void pd_ip_from_v6_bytes(const uint8_t b[16], pd_ip *out);

/* True for an IPv4 address (also when it came IPv4-mapped). */
bool pd_ip_is_v4(const pd_ip *a);
/* "192.0.2.1" for IPv4, the RFC 5952 text for IPv6. */
void pd_ip_to_text(const pd_ip *a, char out[PD_IP_TEXT_LEN]);
/* True if the first `bits` of a equal those of prefix; bits counts within
 * the address's own family (0-32 for IPv4, 0-128 for IPv6), and an IPv4
 * address never matches an IPv6 prefix or the other way round. */
bool pd_ip_in_prefix(const pd_ip *a, const pd_ip *prefix, unsigned bits);

/* The per-address limits' key of an address. */
void pd_ip_key_of(const pd_ip *a, pd_ip_key *out);
/* The same from a sockaddr; an unknown family gives the all-zero key. */
void pd_ip_key_from_sockaddr(const struct sockaddr *sa, pd_ip_key *out);
/* A key as text, for keying by string: "192.0.2.1", "2001:db8:1:2::/64". */
void pd_ip_key_text(const pd_ip_key *k, char out[PD_IP_TEXT_LEN]);
/* The key text of an address given as text; text that is no address is
 * kept as it is (cut to fit), so it is still a key of its own. */
void pd_ip_key_text_of(const char *ip_text, char out[PD_IP_TEXT_LEN]);

#endif
