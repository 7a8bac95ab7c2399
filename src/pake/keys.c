/* keys.c: the key schedule of keys.h: libsodium's Argon2id and SHA-512,
 * OpenSSL's HKDF (libsodium 1.0.18, Debian bookworm's, has no HKDF). */
#include "keys.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>
#include <string.h>

const char *pake_strerror(int err)
{
    switch (err) {
#define PAKE_ERR_CASE(name, value, text)                                                           \
    case value:                                                                                    \
        return text;
        PAKE_ERRORS(PAKE_ERR_CASE)
#undef PAKE_ERR_CASE
    }
    return "unknown error";
}

static cpace_str label(const char *s)
{
    return (cpace_str){(const uint8_t *)s, strlen(s)};
}

int pake_keys_salt(uint8_t salt[PAKE_SALT_LEN], const char *room, size_t room_len)
{
    if (!salt || !room || room_len == 0 || room_len > PAKE_ROOM_MAX) return PAKE_E_ARG;
    cpace_str parts[2] = {label(PAKE_LABEL_SALT), {(const uint8_t *)room, room_len}};
    uint8_t buf[2 + sizeof PAKE_LABEL_SALT + 2 + PAKE_ROOM_MAX], h[crypto_hash_sha512_BYTES];
    size_t n = cpace_lv_cat(buf, sizeof buf, parts, 2);
    if (n > sizeof buf) return PAKE_E_ARG; /* cannot happen within PAKE_ROOM_MAX */
    crypto_hash_sha512(h, buf, n);
    memcpy(salt, h, PAKE_SALT_LEN);
    return PAKE_OK;
}

int pake_keys_stretch(uint8_t out[PAKE_STRETCHED_LEN], const char *secret, size_t secret_len,
                      const uint8_t salt[PAKE_SALT_LEN])
{
    if (!out || !secret || !salt) return PAKE_E_ARG;
    if (crypto_pwhash(out, PAKE_STRETCHED_LEN, secret, secret_len, salt, PAKE_ARGON2_T,
                      (size_t)PAKE_ARGON2_M_KIB * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return PAKE_E_NOMEM; /* the only failure for valid parameters */
    return PAKE_OK;
}

int pake_hkdf_sha512(uint8_t *out, size_t out_len, const uint8_t *ikm, size_t ikm_len,
                     const char *info)
{
    int r = PAKE_E_CRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA512", 0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
            OSSL_PARAM_construct_end(),
        };
        /* no salt parameter: RFC 5869 §2.2, HashLen zero bytes */
        if (EVP_KDF_derive(ctx, out, out_len, params) == 1) r = PAKE_OK;
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return r;
}

int pake_keys_split(pake_keys *out, const uint8_t stretched[PAKE_STRETCHED_LEN])
{
    if (!out || !stretched) return PAKE_E_ARG;
    int r = pake_hkdf_sha512(out->admission, PAKE_ADMISSION_LEN, stretched, PAKE_STRETCHED_LEN,
                             PAKE_LABEL_ADMISSION);
    if (r == PAKE_OK)
        r = pake_hkdf_sha512(out->prs, PAKE_PRS_LEN, stretched, PAKE_STRETCHED_LEN, PAKE_LABEL_PRS);
    if (r != PAKE_OK) pake_keys_wipe(out);
    return r;
}

int pake_keys_derive(pake_keys *out, const char *secret, size_t secret_len, const char *room,
                     size_t room_len)
{
    if (!out || !secret || !room || secret_len == 0 || secret_len > PAKE_SECRET_MAX ||
        room_len == 0 || room_len > PAKE_ROOM_MAX)
        return PAKE_E_ARG;
    uint8_t salt[PAKE_SALT_LEN], stretched[PAKE_STRETCHED_LEN];
    int r = pake_keys_salt(salt, room, room_len);
    if (r == PAKE_OK) r = pake_keys_stretch(stretched, secret, secret_len, salt);
    if (r == PAKE_OK) r = pake_keys_split(out, stretched);
    sodium_memzero(stretched, sizeof stretched);
    return r;
}

void pake_keys_wipe(pake_keys *k)
{
    if (k) sodium_memzero(k, sizeof *k);
}

void pake_keys_admission_hex(char out[2 * PAKE_ADMISSION_LEN + 1], const pake_keys *k)
{
    sodium_bin2hex(out, 2 * PAKE_ADMISSION_LEN + 1, k->admission, PAKE_ADMISSION_LEN);
}

size_t pake_ci(uint8_t *out, size_t cap, cpace_str room, cpace_str offerer_id,
               cpace_str answerer_id)
{
    cpace_str parts[4] = {label(PAKE_LABEL_CI), room, offerer_id, answerer_id};
    return cpace_lv_cat(out, cap, parts, 4);
}
