/* dtls.c: see dtls.h. */
#include "dtls.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "../base/log.h"

/* The handshake MTU: 1280 (IPv6 minimum) - 40 IPv6 - 8 UDP (RFC 8261 §5),
 * so no flight of ours is IP-fragmented. Raised after the handshake so a
 * whole SCTP packet always fits one record. */
#define DTLS_HANDSHAKE_MTU (1280 - 48)
#define DTLS_DATA_MTU (16384 + 512)
/* First retransmission after 100 ms, doubling up to 3 s. OpenSSL's default
 * starts at 1 s: one lost packet of the first flight would then cost a
 * full second of channel-open time. */
#define DTLS_INITIAL_TIMEOUT_US 100000u
#define DTLS_MAX_TIMEOUT_US 3000000u
/* Give up on a handshake after 30 s, like libdatachannel. */
#define DTLS_HANDSHAKE_DEADLINE_US (30 * G_USEC_PER_SEC)

/* RFC 8827 §6.5: ECDHE with AES-128-GCM first; a short list keeps the
 * ClientHello in one datagram (webrtc-rs broke on a fragmented one,
 * libdatachannel #1333). RSA suites stay for peers with RSA certificates. */
#define DTLS_CIPHERS                                                                               \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"                                 \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"

struct rtc_dtls_identity {
    unsigned refs; /* the peers using it (lanes share their session's) */
    EVP_PKEY *key;
    X509 *cert;
    uint8_t fingerprint[32];
};

struct rtc_dtls {
    GMainContext *ctx;
    SSL_CTX *ssl_ctx;
    SSL *ssl;
    BIO *in;  /* memory BIO we write received datagrams into */
    BIO *out; /* our write BIO: one write = one datagram out */
    rtc_dtls_callbacks cb;
    void *user;
    uint8_t remote_fp[32];
    bool client, started, connected, failed, closed;
    gint64 start_us;
    GSource *timer;
    uint8_t rbuf[65536];
};

/* ---- identity ---- */

rtc_dtls_identity *rtc_dtls_identity_create(void)
{
    rtc_dtls_identity *id = g_new0(rtc_dtls_identity, 1);
    X509_NAME *name = NULL;
    id->refs = 1;
    id->key = EVP_EC_gen("P-256");
    id->cert = X509_new();
    if (!id->key || !id->cert) goto fail;
    /* random 64-bit serial, notBefore an hour back for clock skew (as
     * libdatachannel and browsers do), valid 30 days: one per session */
    uint8_t serial[8];
    if (RAND_bytes(serial, sizeof serial) != 1) goto fail;
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn) goto fail;
    ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(id->cert));
    BN_free(bn);
    if (!sn) goto fail;
    if (!X509_set_version(id->cert, 2) || !X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(id->cert), 30L * 24 * 3600) ||
        !X509_set_pubkey(id->cert, id->key))
        goto fail;
    name = X509_NAME_new();
    if (!name ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"peerdrop", -1,
                                    -1, 0) ||
        !X509_set_subject_name(id->cert, name) || !X509_set_issuer_name(id->cert, name))
        goto fail;
    X509_NAME_free(name);
    name = NULL;
    if (!X509_sign(id->cert, id->key, EVP_sha256())) goto fail;
    unsigned int n = 0;
    if (!X509_digest(id->cert, EVP_sha256(), id->fingerprint, &n) || n != 32) goto fail;
    return id;
fail:
    PD_LOG_ERROR("dtls: cannot create the certificate");
    X509_NAME_free(name);
    rtc_dtls_identity_destroy(id);
    return NULL;
}

rtc_dtls_identity *rtc_dtls_identity_ref(rtc_dtls_identity *id)
{
    if (id) id->refs++;
    return id;
}

void rtc_dtls_identity_destroy(rtc_dtls_identity *id)
{
    if (!id || --id->refs > 0) return;
    EVP_PKEY_free(id->key);
    X509_free(id->cert);
    g_free(id);
}

const uint8_t *rtc_dtls_identity_fingerprint(const rtc_dtls_identity *id)
{
    return id->fingerprint;
}

/* ---- the write BIO ---- */

static int out_write(BIO *b, const char *data, int len)
{
    rtc_dtls *d = BIO_get_data(b);
    if (len > 0) d->cb.send(d->user, (const uint8_t *)data, (size_t)len);
    return len; /* UDP semantics: a dropped datagram is DTLS's problem */
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
        return DTLS_HANDSHAKE_MTU;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
        return 0;
    default:
        return 0;
    }
}

static int out_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *out_method(void)
{
    static BIO_METHOD *m;
    static gsize once;
    if (g_once_init_enter(&once)) {
        m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rtc-dtls-out");
        BIO_meth_set_write(m, out_write);
        BIO_meth_set_ctrl(m, out_ctrl);
        BIO_meth_set_create(m, out_create);
        g_once_init_leave(&once, 1);
    }
    return m;
}

/* ---- helpers ---- */

static void log_ssl_errors(const char *what)
{
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        PD_LOG_WARN("dtls: %s: %s", what, buf);
    }
}

static void fail(rtc_dtls *d, const char *reason)
{
    if (d->failed || d->closed) return;
    d->failed = true;
    if (d->timer) {
        g_source_destroy(d->timer);
        g_source_unref(d->timer);
        d->timer = NULL;
    }
    log_ssl_errors(reason);
    d->cb.on_failed(d->user, reason);
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    rtc_dtls *d = SSL_get_app_data(ssl);
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1; /* chain ignored */
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    uint8_t md[32];
    unsigned int n = 0;
    if (!cert || !X509_digest(cert, EVP_sha256(), md, &n) || n != 32) return 0;
    /* RFC 8122 §5: the fingerprint is what authenticates the peer */
    return CRYPTO_memcmp(md, d->remote_fp, 32) == 0;
}

static bool peer_cert_matches(rtc_dtls *d)
{
    X509 *cert = SSL_get0_peer_certificate(d->ssl);
    uint8_t md[32];
    unsigned int n = 0;
    return cert && X509_digest(cert, EVP_sha256(), md, &n) && n == 32 &&
           CRYPTO_memcmp(md, d->remote_fp, 32) == 0;
}

static unsigned int timer_cb(SSL *s, unsigned int timer_us)
{
    if (timer_us == 0) return DTLS_INITIAL_TIMEOUT_US;
    return timer_us * 2 > DTLS_MAX_TIMEOUT_US ? DTLS_MAX_TIMEOUT_US : timer_us * 2;
}

static gboolean on_timer(gpointer data);

/* Arms the GLib timer from OpenSSL's retransmission deadline, if any. */
static void schedule_timer(rtc_dtls *d)
{
    if (d->timer) {
        g_source_destroy(d->timer);
        g_source_unref(d->timer);
        d->timer = NULL;
    }
    if (d->connected || d->failed || d->closed) return;
    struct timeval tv;
    if (DTLSv1_get_timeout(d->ssl, &tv) != 1) return;
    guint ms = (guint)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
    d->timer = g_timeout_source_new(ms ? ms : 1);
    g_source_set_callback(d->timer, on_timer, d, NULL);
    g_source_attach(d->timer, d->ctx);
}

static void handshake_step(rtc_dtls *d)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(d->ssl);
    if (rc == 1) {
        if (!peer_cert_matches(d)) {
            fail(d, "DTLS fingerprint mismatch");
            return;
        }
        d->connected = true;
        SSL_set_mtu(d->ssl, DTLS_DATA_MTU);
        schedule_timer(d); /* clears it */
        PD_LOG_DEBUG("dtls: connected as %s, %s", d->client ? "client" : "server",
                     SSL_get_cipher_name(d->ssl));
        d->cb.on_connected(d->user);
        return;
    }
    int err = SSL_get_error(d->ssl, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        fail(d, "DTLS handshake failed");
        return;
    }
    schedule_timer(d);
}

static gboolean on_timer(gpointer data)
{
    rtc_dtls *d = data;
    g_source_unref(d->timer);
    d->timer = NULL;
    if (g_get_monotonic_time() - d->start_us > DTLS_HANDSHAKE_DEADLINE_US) {
        fail(d, "DTLS handshake timed out");
        return G_SOURCE_REMOVE;
    }
    ERR_clear_error();
    if (DTLSv1_handle_timeout(d->ssl) < 0) {
        fail(d, "DTLS retransmission failed");
        return G_SOURCE_REMOVE;
    }
    schedule_timer(d);
    return G_SOURCE_REMOVE;
}

/* ---- API ---- */

rtc_dtls *rtc_dtls_create(GMainContext *ctx, const rtc_dtls_identity *id, bool client,
                          const uint8_t remote_fingerprint[32], const rtc_dtls_callbacks *cb,
                          void *user)
{
    if (!ctx || !id || !cb || !remote_fingerprint) return NULL;
    rtc_dtls *d = g_new0(rtc_dtls, 1);
    d->ctx = ctx;
    d->cb = *cb;
    d->user = user;
    d->client = client;
    memcpy(d->remote_fp, remote_fingerprint, 32);

    d->ssl_ctx = SSL_CTX_new(DTLS_method());
    if (!d->ssl_ctx) goto fail;
    SSL_CTX_set_min_proto_version(d->ssl_ctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(d->ssl_ctx, DTLS1_2_VERSION);
    /* RFC 8261 §5 / RFC 8827: no renegotiation, no compression; we set the
     * MTU ourselves (no socket to query); EMS stays on (OpenSSL default). */
    SSL_CTX_set_options(d->ssl_ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION |
                                        SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
    SSL_CTX_set_read_ahead(d->ssl_ctx, 1);
    if (!SSL_CTX_set_cipher_list(d->ssl_ctx, DTLS_CIPHERS) ||
        !SSL_CTX_set1_groups_list(d->ssl_ctx, "X25519:P-256") ||
        !SSL_CTX_use_certificate(d->ssl_ctx, id->cert) ||
        !SSL_CTX_use_PrivateKey(d->ssl_ctx, id->key) || !SSL_CTX_check_private_key(d->ssl_ctx))
        goto fail;
    SSL_CTX_set_verify(d->ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_verify_depth(d->ssl_ctx, 4);

    d->ssl = SSL_new(d->ssl_ctx);
    if (!d->ssl) goto fail;
    SSL_set_app_data(d->ssl, d);
    /* Browsers don't need use_srtp on a data-only session, but pion aborts
     * when its offer of it goes unanswered (pion/dtls#356): offer it as
     * libdatachannel does. Returns 0 on success. */
    if (SSL_set_tlsext_use_srtp(d->ssl, "SRTP_AES128_CM_SHA1_80") != 0) goto fail;
    d->in = BIO_new(BIO_s_mem());
    d->out = BIO_new(out_method());
    if (!d->in || !d->out) goto fail;
    BIO_set_mem_eof_return(d->in, -1); /* empty = "retry", not EOF */
    BIO_set_data(d->out, d);
    SSL_set_bio(d->ssl, d->in, d->out); /* the SSL owns both now */
    SSL_set_mtu(d->ssl, DTLS_HANDSHAKE_MTU);
    DTLS_set_timer_cb(d->ssl, timer_cb);
    if (client)
        SSL_set_connect_state(d->ssl);
    else
        SSL_set_accept_state(d->ssl);
    d->start_us = g_get_monotonic_time();
    return d;
fail:
    log_ssl_errors("setup");
    if (d->ssl) {
        d->in = d->out = NULL; /* freed with the SSL if set_bio ran */
    }
    BIO_free(d->in);
    BIO_free(d->out);
    SSL_free(d->ssl);
    SSL_CTX_free(d->ssl_ctx);
    g_free(d);
    return NULL;
}

void rtc_dtls_start(rtc_dtls *d)
{
    if (d->started || d->failed) return;
    d->started = true;
    d->start_us = g_get_monotonic_time();
    if (d->client) handshake_step(d);
}

void rtc_dtls_feed(rtc_dtls *d, const uint8_t *data, size_t len)
{
    if (d->failed || d->closed || len == 0 || len > INT_MAX) return;
    /* RFC 7983 demultiplexing: DTLS records start with 20..63 */
    if (data[0] < 20 || data[0] > 63) return;
    BIO_write(d->in, data, (int)len);
    if (!d->connected) {
        d->started = true;
        handshake_step(d);
        if (!d->connected) return;
    }
    for (;;) {
        ERR_clear_error();
        int n = SSL_read(d->ssl, d->rbuf, sizeof d->rbuf);
        if (n > 0) {
            d->cb.on_data(d->user, d->rbuf, (size_t)n);
            if (d->failed || d->closed) return;
            continue;
        }
        int err = SSL_get_error(d->ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
        if (err == SSL_ERROR_ZERO_RETURN) {
            d->closed = true;
            d->cb.on_closed(d->user);
            return;
        }
        fail(d, "DTLS read failed");
        return;
    }
}

int rtc_dtls_send(rtc_dtls *d, const uint8_t *data, size_t len)
{
    if (!d->connected || d->failed || d->closed || len > INT_MAX) return -1;
    ERR_clear_error();
    int n = SSL_write(d->ssl, data, (int)len);
    if (n != (int)len) {
        log_ssl_errors("write");
        return -1;
    }
    return 0;
}

bool rtc_dtls_is_client(const rtc_dtls *d)
{
    return d->client;
}

void rtc_dtls_destroy(rtc_dtls *d)
{
    if (!d) return;
    if (d->timer) {
        g_source_destroy(d->timer);
        g_source_unref(d->timer);
    }
    if (d->connected && !d->failed && !d->closed) {
        ERR_clear_error();
        SSL_shutdown(d->ssl); /* close_notify through the send callback */
    }
    ERR_clear_error();
    SSL_free(d->ssl);
    SSL_CTX_free(d->ssl_ctx);
    g_free(d);
}
