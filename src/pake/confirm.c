/* confirm.c: fingerprints, commitment and key confirmation (confirm.h),
 * on libsodium's SHA-512 and HMAC-SHA-512. */
#include "confirm.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    size_t digest_len;
} fp_hashes[] = {{"sha-256", 32}, {"sha-384", 48}, {"sha-512", 64}};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int pake_fingerprint_canonical(char out[PAKE_FP_MAX], const char *in, size_t len)
{
    static const char prefix[] = "a=fingerprint:";
    static const char hex[] = "0123456789abcdef";
    if (!out || !in) return PAKE_E_ARG;
    out[0] = 0;
    if (len >= sizeof prefix - 1 && memcmp(in, prefix, sizeof prefix - 1) == 0)
        in += sizeof prefix - 1, len -= sizeof prefix - 1;
    if (len >= 2 && in[len - 2] == '\r' && in[len - 1] == '\n')
        len -= 2;
    else if (len >= 1 && in[len - 1] == '\n')
        len -= 1;
    const char *sp = memchr(in, ' ', len);
    if (!sp) return PAKE_E_FINGERPRINT;
    size_t name_len = (size_t)(sp - in);
    const char *fp = sp + 1;
    size_t fp_len = len - name_len - 1;
    for (size_t h = 0; h < sizeof fp_hashes / sizeof fp_hashes[0]; h++) {
        if (strlen(fp_hashes[h].name) != name_len ||
            strncasecmp(fp_hashes[h].name, in, name_len) != 0)
            continue;
        size_t n = fp_hashes[h].digest_len;
        if (fp_len != 3 * n - 1) return PAKE_E_FINGERPRINT; /* "AB:" * n without the last ':' */
        size_t at = 0;
        memcpy(out, fp_hashes[h].name, name_len);
        at = name_len;
        out[at++] = ' ';
        for (size_t i = 0; i < n; i++) {
            int hi = hexval(fp[3 * i]), lo = hexval(fp[3 * i + 1]);
            if (hi < 0 || lo < 0 || (i + 1 < n && fp[3 * i + 2] != ':')) {
                out[0] = 0;
                return PAKE_E_FINGERPRINT;
            }
            out[at++] = hex[hi];
            out[at++] = hex[lo];
        }
        out[at] = 0;
        return (int)at;
    }
    return PAKE_E_FINGERPRINT;
}

int pake_fingerprint_from_sdp(char out[PAKE_FP_MAX], const char *sdp, size_t len)
{
    static const char attr[] = "a=fingerprint:";
    if (!out || !sdp) return PAKE_E_ARG;
    out[0] = 0;
    char one[PAKE_FP_MAX];
    int found = 0;
    size_t off = 0;
    while (off < len) {
        const char *nl = memchr(sdp + off, '\n', len - off);
        size_t line_len = nl ? (size_t)(nl - (sdp + off)) : len - off;
        const char *line = sdp + off;
        off += line_len + (nl ? 1 : 0);
        if (line_len && line[line_len - 1] == '\r') line_len--;
        if (line_len < sizeof attr - 1 || memcmp(line, attr, sizeof attr - 1)) continue;
        int n = pake_fingerprint_canonical(one, line, line_len);
        if (n < 0 || (found && strcmp(one, out))) {
            out[0] = 0;
            return PAKE_E_FINGERPRINT;
        }
        if (!found) memcpy(out, one, (size_t)n + 1);
        found = n;
    }
    return found ? found : PAKE_E_FINGERPRINT;
}

static void hash_lv(crypto_hash_sha512_state *st, cpace_str s)
{
    uint8_t hdr[10];
    crypto_hash_sha512_update(st, hdr, cpace_len_header(hdr, s.len));
    if (s.len) crypto_hash_sha512_update(st, s.p, s.len);
}

static void mac_lv(crypto_auth_hmacsha512_state *st, cpace_str s)
{
    uint8_t hdr[10];
    crypto_auth_hmacsha512_update(st, hdr, cpace_len_header(hdr, s.len));
    if (s.len) crypto_auth_hmacsha512_update(st, s.p, s.len);
}

static cpace_str str(const char *s)
{
    return (cpace_str){(const uint8_t *)s, s ? strlen(s) : 0};
}

void pake_commit(uint8_t out[PAKE_COMMIT_LEN], cpace_str sid, const uint8_t ya[CPACE_POINT_LEN])
{
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    hash_lv(&st, str(PAKE_LABEL_COMMIT));
    hash_lv(&st, sid);
    hash_lv(&st, (cpace_str){ya, CPACE_POINT_LEN});
    crypto_hash_sha512_final(&st, out);
}

bool pake_commit_check(const uint8_t commit[PAKE_COMMIT_LEN], cpace_str sid,
                       const uint8_t ya[CPACE_POINT_LEN])
{
    uint8_t want[PAKE_COMMIT_LEN];
    pake_commit(want, sid, ya);
    return crypto_verify_64(want, commit) == 0;
}

void pake_mac_key(uint8_t key[PAKE_MAC_KEY_LEN], cpace_str sid, const uint8_t isk[CPACE_ISK_LEN])
{
    /* the draft's "Key confirmation", verbatim: "CPaceMac" || sid || ISK, no length prefixes */
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, (const uint8_t *)"CPaceMac", 8);
    if (sid.len) crypto_hash_sha512_update(&st, sid.p, sid.len);
    crypto_hash_sha512_update(&st, isk, CPACE_ISK_LEN);
    crypto_hash_sha512_final(&st, key);
    sodium_memzero(&st, sizeof st);
}

void pake_confirm_tag(uint8_t tag[PAKE_TAG_LEN], const uint8_t key[PAKE_MAC_KEY_LEN], cpace_str y,
                      cpace_str ad, const char *fp_offerer, const char *fp_answerer)
{
    crypto_auth_hmacsha512_state st;
    crypto_auth_hmacsha512_init(&st, key, PAKE_MAC_KEY_LEN);
    mac_lv(&st, y);
    mac_lv(&st, ad);
    mac_lv(&st, str(fp_offerer));
    mac_lv(&st, str(fp_answerer));
    crypto_auth_hmacsha512_final(&st, tag);
    sodium_memzero(&st, sizeof st);
}

bool pake_confirm_check(const uint8_t tag[PAKE_TAG_LEN], const uint8_t key[PAKE_MAC_KEY_LEN],
                        cpace_str y, cpace_str ad, const char *fp_offerer, const char *fp_answerer)
{
    uint8_t want[PAKE_TAG_LEN];
    pake_confirm_tag(want, key, y, ad, fp_offerer, fp_answerer);
    bool ok = crypto_verify_64(want, tag) == 0;
    sodium_memzero(want, sizeof want);
    return ok;
}
