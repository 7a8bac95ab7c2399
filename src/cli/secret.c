/* secret.c: see secret.h. */
#include "cli/secret.h"

#include <glib.h>
#include <sodium.h>
#include <string.h>

int cli_secret_derive(const char *secret, const char *room,
                      char admission_hex[CLI_ADMISSION_HEX_LEN + 1], uint8_t prs[PAKE_PRS_LEN])
{
    if (!secret || !room || !admission_hex || !prs) return PAKE_E_ARG;
    /* NULL for text that is not UTF-8: refused, never derived from as raw
     * bytes, since the browser could not type the same secret */
    char *nfc = g_utf8_normalize(secret, -1, G_NORMALIZE_NFC);
    if (!nfc) return PAKE_E_ARG;
    size_t nfc_len = strlen(nfc);
    pake_keys keys;
    int r = pake_keys_derive(&keys, nfc, nfc_len, room, strlen(room));
    sodium_memzero(nfc, nfc_len);
    g_free(nfc);
    if (r != PAKE_OK) return r;
    pake_keys_admission_hex(admission_hex, &keys);
    memcpy(prs, keys.prs, PAKE_PRS_LEN);
    pake_keys_wipe(&keys);
    return PAKE_OK;
}

int cli_secret_derive_prs(const char *code, const char *room, uint8_t prs[PAKE_PRS_LEN])
{
    if (!code || !room || !prs) return PAKE_E_ARG;
    size_t code_len = strlen(code);
    if (code_len == 0 || code_len > PAKE_SECRET_MAX) return PAKE_E_ARG;
    uint8_t salt[PAKE_SALT_LEN], stretched[PAKE_STRETCHED_LEN];
    int r = pake_keys_salt(salt, room, strlen(room));
    if (r == PAKE_OK) r = pake_keys_stretch(stretched, code, code_len, salt);
    if (r == PAKE_OK)
        r = pake_hkdf_sha512(prs, PAKE_PRS_LEN, stretched, sizeof stretched, PAKE_LABEL_PRS);
    sodium_memzero(stretched, sizeof stretched);
    return r;
}
