/* net_connect.h: the CLI's way to the signaling server: a TCP connection
 * and, for https:// / wss://, TLS over it, peer and host name verified.
 * One place for both users: signal_client.c (non-blocking, on the GLib
 * loop) and ice_servers.c (one blocking GET /config before the loop).
 *
 * TLS: at least 1.2, the system's CAs plus $PEERDROP_CA_FILE (tests with
 * a self-signed server name their CA there), SNI and the host name checked
 * against the certificate (SSL_set1_host). */
#ifndef PD_CLI_NET_CONNECT_H
#define PD_CLI_NET_CONNECT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* A client TLS context as above, or NULL. */
SSL_CTX *cli_net_tls_context(void);

/* A TLS session over fd for `host` (SNI, name verification), not yet
 * handshaken; NULL on failure. */
SSL *cli_net_tls_attach(SSL_CTX *ctx, int fd, const char *host);

/* Connects to host:port. Non-blocking: the first address only, the connect
 * left in progress (wait for the fd to be writable); a retry goes round
 * again. Blocking: each address in turn, SO_SNDTIMEO bounding connect()
 * on Linux and SO_RCVTIMEO every read. Returns the fd, or -1 with *why
 * (static text) set. */
int cli_net_connect(const char *host, const char *port, bool nonblocking, unsigned timeout_ms,
                    const char **why);

/* Reads or writes over TLS when ssl is set, else over fd. Returns bytes
 * (> 0), 0 at the peer's orderly end (reads), CLI_NET_AGAIN when the
 * socket would block (or a blocking socket's timeout passed), or
 * CLI_NET_ERR. */
enum { CLI_NET_AGAIN = -2, CLI_NET_ERR = -1 };
long cli_net_read(SSL *ssl, int fd, void *buf, size_t n);
long cli_net_write(SSL *ssl, int fd, const void *buf, size_t n);

#endif
