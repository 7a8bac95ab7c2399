/* test_cli_secret.c: src/cli/secret.c, what the CLI sends the server in
 * place of the room secret (issue 14), against the key-schedule vectors
 * the web app replays too (web/src/crypto/auth-vectors.json, found from
 * this source's path or given as argv[1]): the same admission value as the
 * browser for the same secret and room, a decomposed (NFD) password
 * normalised to the NFC the browser derives from, and the refusals (not
 * UTF-8, empty, over 1024 bytes). */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../src/cli/secret.h"
#include "check.h"

static json_t *load(const char *arg)
{
    char path[4096];
    if (arg) {
        snprintf(path, sizeof path, "%s", arg);
    } else {
        snprintf(path, sizeof path, "%s", __FILE__);
        char *slash = strrchr(path, '/');
        if (slash) *slash = 0;
        strncat(path, "/../../web/src/crypto/auth-vectors.json", sizeof path - strlen(path) - 1);
    }
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j) fprintf(stderr, "cannot load %s: %s\n", path, err.text);
    return j;
}

static const char *J(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool hex_eq(const uint8_t *b, size_t len, const char *want)
{
    char h[2 * 64 + 1];
    if (!want || len > 64 || strlen(want) != 2 * len) return false;
    sodium_bin2hex(h, sizeof h, b, len);
    return strcmp(h, want) == 0;
}

static void test_vectors(json_t *v)
{
    json_t *k;
    size_t i;
    json_array_foreach(json_object_get(v, "keySchedule"), i, k)
    {
        char adm[CLI_ADMISSION_HEX_LEN + 1];
        uint8_t prs[PAKE_PRS_LEN];
        CHECK_EQ_INT(cli_secret_derive(J(k, "secret"), J(k, "room"), adm, prs), PAKE_OK);
        CHECK_EQ_STR(adm, J(k, "admission"));
        CHECK(hex_eq(prs, sizeof prs, J(k, "prs")));
        /* the value sent is never the secret, nor contains it */
        CHECK(strstr(adm, J(k, "secret")) == NULL);
    }
    CHECK_EQ_INT(json_array_size(json_object_get(v, "keySchedule")), 4);
}

/* "Pässwörd 🔑" typed with combining diaeresis (NFD, as macOS keyboards and
 * some file names give it) opens the room the browser derived from NFC. */
static void test_nfc(json_t *v)
{
    json_t *nfc_vec = json_array_get(json_object_get(v, "keySchedule"), 3);
    CHECK_EQ_STR(J(nfc_vec, "secretHex"), "50c3a4737377c3b6726420f09f9491");
    const char *nfd = "Pa\xcc\x88sswo\xcc\x88rd \xf0\x9f\x94\x91";
    char adm[CLI_ADMISSION_HEX_LEN + 1];
    uint8_t prs[PAKE_PRS_LEN];
    CHECK_EQ_INT(cli_secret_derive(nfd, J(nfc_vec, "room"), adm, prs), PAKE_OK);
    CHECK_EQ_STR(adm, J(nfc_vec, "admission"));
    CHECK(hex_eq(prs, sizeof prs, J(nfc_vec, "prs")));
}

static void test_refused(void)
{
    char adm[CLI_ADMISSION_HEX_LEN + 1];
    uint8_t prs[PAKE_PRS_LEN];
    CHECK_EQ_INT(cli_secret_derive("", "room-42", adm, prs), PAKE_E_ARG);
    CHECK_EQ_INT(cli_secret_derive("pw\xff", "room-42", adm, prs), PAKE_E_ARG); /* not UTF-8 */
    CHECK_EQ_INT(cli_secret_derive("\xc3", "room-42", adm, prs), PAKE_E_ARG);   /* cut short */
    CHECK_EQ_INT(cli_secret_derive("password", "", adm, prs), PAKE_E_ARG);
    CHECK_EQ_INT(cli_secret_derive(NULL, "room-42", adm, prs), PAKE_E_ARG);
    static char big[PAKE_SECRET_MAX + 2];
    memset(big, 'x', PAKE_SECRET_MAX + 1);
    CHECK_EQ_INT(cli_secret_derive(big, "room-42", adm, prs), PAKE_E_ARG);
    big[PAKE_SECRET_MAX] = 0; /* exactly the limit: accepted */
    CHECK_EQ_INT(cli_secret_derive(big, "room-42", adm, prs), PAKE_OK);
    CHECK_EQ_INT(strlen(adm), CLI_ADMISSION_HEX_LEN);
    CHECK(strspn(adm, "0123456789abcdef") == CLI_ADMISSION_HEX_LEN);
}

/* A short code's PRS (issue 14): only the PRS, the same as the full
 * schedule's, from the shared vectors docs/vectors/short-codes.json. */
static void test_code_prs(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *slash = strrchr(path, '/');
    if (slash) *slash = 0;
    strncat(path, "/../../docs/vectors/short-codes.json", sizeof path - strlen(path) - 1);
    json_t *v = load(path);
    CHECK(v != NULL);
    if (!v) return;
    json_t *k;
    size_t i, n = 0;
    json_array_foreach(json_object_get(v, "keySchedule"), i, k)
    {
        uint8_t prs[PAKE_PRS_LEN];
        CHECK_EQ_INT(cli_secret_derive_prs(J(k, "code"), J(k, "room"), prs), PAKE_OK);
        CHECK(hex_eq(prs, sizeof prs, J(k, "prs")));
        n++;
    }
    CHECK_EQ_INT(n, 2);
    uint8_t prs[PAKE_PRS_LEN];
    CHECK_EQ_INT(cli_secret_derive_prs("", "code-7", prs), PAKE_E_ARG);
    CHECK_EQ_INT(cli_secret_derive_prs("7-guitar-lemon", "", prs), PAKE_E_ARG);
    json_decref(v);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) return 1;
    json_t *v = load(argc > 1 ? argv[1] : NULL);
    if (!v) return 1;
    test_vectors(v);
    test_nfc(v);
    test_refused();
    test_code_prs();
    json_decref(v);
    return CHECK_DONE();
}
