/* net_connect.c: see net_connect.h. */
#include "net_connect.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

SSL_CTX *cli_net_tls_context(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_default_verify_paths(ctx);
    /* tests with a self-signed server name their CA here */
    const char *ca = getenv("PEERDROP_CA_FILE");
    if (ca && *ca) SSL_CTX_load_verify_locations(ctx, ca, NULL);
    return ctx;
}

SSL *cli_net_tls_attach(SSL_CTX *ctx, int fd, const char *host)
{
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (!ssl) return NULL;
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, host); /* SNI */
    SSL_set1_host(ssl, host);            /* verify the name */
    return ssl;
}

static int connect_nonblocking(const struct addrinfo *ai, const char **why)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        *why = strerror(errno);
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_blocking(const struct addrinfo *res, unsigned timeout_ms, const char **why)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int fd = -1;
    *why = "cannot connect";
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(fd);
            fd = -1;
        }
    }
    return fd;
}

int cli_net_connect(const char *host, const char *port, bool nonblocking, unsigned timeout_ms,
                    const char **why)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *res = NULL;
    int r = getaddrinfo(host, port, &hints, &res);
    if (r != 0 || !res) {
        *why = r != 0 ? gai_strerror(r) : "no address";
        return -1;
    }
    int fd = nonblocking ? connect_nonblocking(res, why) : connect_blocking(res, timeout_ms, why);
    freeaddrinfo(res);
    return fd;
}

long cli_net_read(SSL *ssl, int fd, void *buf, size_t n)
{
    if (ssl) {
        int r = SSL_read(ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
        if (r > 0) return r;
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return CLI_NET_AGAIN;
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        return CLI_NET_ERR;
    }
    ssize_t r = recv(fd, buf, n, 0);
    if (r >= 0) return (long)r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? CLI_NET_AGAIN : CLI_NET_ERR;
}

long cli_net_write(SSL *ssl, int fd, const void *buf, size_t n)
{
    if (ssl) {
        int r = SSL_write(ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
        if (r > 0) return r;
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return CLI_NET_AGAIN;
        return CLI_NET_ERR;
    }
    ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) return (long)r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? CLI_NET_AGAIN : CLI_NET_ERR;
}
