/* test_pake.c: the authentication cores of src/pake against
 *   1. every CPACE-RISTR255-SHA512 vector of draft-irtf-cfrg-cpace
 *      (docs/vectors/cpace-ristretto255.json, converted from the draft's
 *      testvectors.json and appendix): string utilities, generator,
 *      shares, K, ISK in both transcript modes, sid_output, scalar_mult
 *      and the invalid points that MUST abort;
 *   2. the shared vectors web/src/crypto/auth-vectors.json, which the web
 *      app's vitest replays too: key schedule, CI, commitment, key
 *      confirmation, fingerprint normalisation, SAS, the message codec,
 *      and the negative cases (wrong password, swapped fingerprints, the
 *      identity point).
 * Both files are read at run time with jansson, found from this source's
 * path (CMake passes absolute paths) or given as argv[1] and argv[2]. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/pake/confirm.h"
#include "../../src/pake/cpace.h"
#include "../../src/pake/keys.h"
#include "../../src/pake/pake_msg.h"
#include "../../src/pake/sas.h"
#include "../../src/pake/session.h"
#include "check.h"
#include "guard.h"

/* ---------------- helpers ---------------- */

typedef struct bytes {
    uint8_t b[4096];
    size_t len;
} bytes;

static bytes unhex(const char *h)
{
    bytes out = {.len = 0};
    if (!h) {
        fprintf(stderr, "missing hex member\n");
        check_failed++;
        return out;
    }
    size_t n = strlen(h) / 2;
    if (n > sizeof out.b) n = sizeof out.b;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out.b[i] = (uint8_t)v;
    }
    out.len = n;
    return out;
}

static cpace_str S(const bytes *b)
{
    return (cpace_str){b->b, b->len};
}

static const char *J(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bytes H(json_t *o, const char *k)
{
    return unhex(J(o, k));
}

#define CHECK_BYTES(got, got_len, want)                                                            \
    do {                                                                                           \
        bytes check_w = (want);                                                                    \
        CHECK((size_t)(got_len) == check_w.len && memcmp((got), check_w.b, check_w.len) == 0);     \
    } while (0)

static json_t *load(const char *arg, const char *rel)
{
    char path[4096];
    if (arg) {
        snprintf(path, sizeof path, "%s", arg);
    } else {
        snprintf(path, sizeof path, "%s", __FILE__);
        char *slash = strrchr(path, '/');
        if (slash) *slash = 0;
        strncat(path, rel, sizeof path - strlen(path) - 1);
    }
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j) fprintf(stderr, "cannot load %s: %s\n", path, err.text);
    return j;
}

/* ---------------- 1. the draft's vectors ---------------- */

static void test_strings(json_t *v)
{
    json_t *c;
    size_t i;
    uint8_t out[512];
    json_array_foreach(json_object_get(v, "prepend_len"), i, c)
    {
        bytes in = H(c, "in");
        size_t n = cpace_prepend_len(out, sizeof out, S(&in));
        CHECK_BYTES(out, n, H(c, "out"));
        CHECK_EQ_INT(cpace_prepend_len(NULL, 0, S(&in)), n); /* sizing call */
    }
    CHECK_EQ_INT(json_array_size(json_object_get(v, "prepend_len")), 4);

    json_array_foreach(json_object_get(v, "lv_cat"), i, c)
    {
        json_t *parts = json_object_get(c, "in"), *p;
        size_t j;
        bytes b[8];
        cpace_str s[8];
        json_array_foreach(parts, j, p)
        {
            b[j] = unhex(json_string_value(p));
            s[j] = S(&b[j]);
        }
        size_t n = cpace_lv_cat(out, sizeof out, s, json_array_size(parts));
        CHECK_BYTES(out, n, H(c, "out"));
        /* too small a buffer: nothing written past cap, full length told */
        memset(out, 0xee, sizeof out);
        CHECK_EQ_INT(cpace_lv_cat(out, 3, s, json_array_size(parts)), n);
        CHECK(out[3] == 0xee);
    }

    json_array_foreach(json_object_get(v, "lexiographically_larger"), i, c)
    {
        bytes a = H(c, "a"), b = H(c, "b");
        CHECK_EQ_INT(cpace_lexiographically_larger(S(&a), S(&b)),
                     json_is_true(json_object_get(c, "larger")));
    }
    CHECK_EQ_INT(json_array_size(json_object_get(v, "lexiographically_larger")), 6);

    json_array_foreach(json_object_get(v, "o_cat"), i, c)
    {
        bytes a = H(c, "a"), b = H(c, "b");
        size_t n = cpace_o_cat(out, sizeof out, S(&a), S(&b));
        CHECK_BYTES(out, n, H(c, "out"));
    }

    const char *modes[2] = {"transcript_ir", "transcript_oc"};
    for (int m = 0; m < 2; m++) {
        json_array_foreach(json_object_get(v, modes[m]), i, c)
        {
            bytes ya = H(c, "Ya"), ada = H(c, "ADa"), yb = H(c, "Yb"), adb = H(c, "ADb");
            size_t n = cpace_transcript(out, sizeof out, m ? CPACE_OC : CPACE_IR, S(&ya), S(&ada),
                                        S(&yb), S(&adb));
            CHECK_BYTES(out, n, H(c, "out"));
        }
        CHECK_EQ_INT(json_array_size(json_object_get(v, modes[m])), 2);
    }
}

static void test_generator(json_t *v)
{
    json_t *c = json_object_get(v, "calculate_generator");
    CHECK_EQ_INT(json_integer_value(json_object_get(c, "s_in_bytes")), CPACE_S_IN_BYTES);
    bytes dsi = H(c, "DSI"), prs = H(c, "PRS"), ci = H(c, "CI"), sid = H(c, "sid");
    CHECK_EQ_MEM(dsi.b, dsi.len, CPACE_DSI, strlen(CPACE_DSI));
    uint8_t gs[512];
    size_t n = cpace_generator_string(gs, sizeof gs, S(&prs), S(&ci), S(&sid));
    CHECK_BYTES(gs, n, H(c, "generator_string"));
    /* the zero padding: prepend_len(DSI) + prepend_len(PRS) + 1 + zpad = 128 */
    CHECK_EQ_INT(gs[1 + dsi.len + 1 + prs.len], json_integer_value(json_object_get(c, "zpad_len")));
    uint8_t h[64];
    crypto_hash_sha512(h, gs, n);
    CHECK_BYTES(h, 64, H(c, "hash"));
    uint8_t g[32];
    CHECK_EQ_INT(cpace_calculate_generator(g, S(&prs), S(&ci), S(&sid)), CPACE_OK);
    CHECK_BYTES(g, 32, H(c, "g"));
}

static void test_exchange(json_t *v)
{
    json_t *e = json_object_get(v, "exchange");
    bytes prs = H(e, "PRS"), ci = H(e, "CI"), sid = H(e, "sid"), ya = H(e, "ya"), yb = H(e, "yb");
    bytes ada = H(e, "ADa"), adb = H(e, "ADb");
    uint8_t g[32], Ya[32], Yb[32], k[32], isk[64], out[64];
    CHECK_EQ_INT(cpace_calculate_generator(g, S(&prs), S(&ci), S(&sid)), CPACE_OK);
    CHECK_BYTES(g, 32, H(e, "g"));
    CHECK_EQ_INT(cpace_scalar_mult(Ya, ya.b, g), CPACE_OK);
    CHECK_BYTES(Ya, 32, H(e, "Ya"));
    CHECK_EQ_INT(cpace_share(Yb, yb.b, S(&prs), S(&ci), S(&sid)), CPACE_OK);
    CHECK_BYTES(Yb, 32, H(e, "Yb"));
    CHECK_EQ_INT(cpace_scalar_mult_vfy(k, ya.b, Yb), CPACE_OK);
    CHECK_BYTES(k, 32, H(e, "K"));
    CHECK_EQ_INT(cpace_scalar_mult_vfy(k, yb.b, Ya), CPACE_OK);
    CHECK_BYTES(k, 32, H(e, "K"));

    cpace_str sYa = {Ya, 32}, sYb = {Yb, 32};
    cpace_isk(isk, CPACE_IR, S(&sid), k, sYa, S(&ada), sYb, S(&adb));
    CHECK_BYTES(isk, 64, H(e, "ISK_IR"));
    cpace_isk(isk, CPACE_OC, S(&sid), k, sYa, S(&ada), sYb, S(&adb));
    CHECK_BYTES(isk, 64, H(e, "ISK_SY"));
    cpace_sid_output(out, CPACE_IR, sYa, S(&ada), sYb, S(&adb));
    CHECK_BYTES(out, 64, H(e, "sid_output_ir"));
    cpace_sid_output(out, CPACE_OC, sYa, S(&ada), sYb, S(&adb));
    CHECK_BYTES(out, 64, H(e, "sid_output_oc"));

    /* both parties' finish: same ISK, in both modes */
    for (int m = 0; m < 2; m++) {
        cpace_mode mode = m ? CPACE_OC : CPACE_IR;
        CHECK_EQ_INT(cpace_finish(isk, mode, CPACE_A, ya.b, S(&sid), sYa, S(&ada), sYb, S(&adb)),
                     CPACE_OK);
        CHECK_BYTES(isk, 64, H(e, m ? "ISK_SY" : "ISK_IR"));
        CHECK_EQ_INT(cpace_finish(isk, mode, CPACE_B, yb.b, S(&sid), sYa, S(&ada), sYb, S(&adb)),
                     CPACE_OK);
        CHECK_BYTES(isk, 64, H(e, m ? "ISK_SY" : "ISK_IR"));
    }
    /* the transcript is ordered by role: A and B swapped give another key */
    CHECK_EQ_INT(cpace_finish(isk, CPACE_IR, CPACE_A, ya.b, S(&sid), sYb, S(&adb), sYa, S(&ada)),
                 CPACE_OK);
    CHECK(memcmp(isk, H(e, "ISK_IR").b, 64) != 0);
}

static void test_points(json_t *v)
{
    json_t *c = json_object_get(v, "scalar_mult"), *p;
    bytes s = H(c, "s"), x = H(c, "X");
    uint8_t out[32];
    CHECK_EQ_INT(cpace_scalar_mult(out, s.b, x.b), CPACE_OK);
    CHECK_BYTES(out, 32, H(c, "scalar_mult"));
    CHECK_EQ_INT(cpace_scalar_mult_vfy(out, s.b, x.b), CPACE_OK);
    CHECK_BYTES(out, 32, H(c, "scalar_mult_vfy"));

    bytes ident = unhex(J(v, "identity"));
    size_t i;
    json_array_foreach(json_object_get(v, "invalid_points"), i, p)
    {
        bytes y = H(p, "Y"), sc = H(p, "s");
        memset(out, 0xaa, sizeof out);
        CHECK_EQ_INT(cpace_scalar_mult_vfy(out, sc.b, y.b), CPACE_E_POINT);
        CHECK_BYTES(out, 32, ident);
        /* in a protocol run: A receives the invalid point as Yb and aborts */
        json_t *e = json_object_get(v, "exchange");
        bytes ya = H(e, "ya"), sid = H(e, "sid"), ada = H(e, "ADa"), adb = H(e, "ADb"),
              Ya = H(e, "Ya");
        uint8_t isk[64];
        memset(isk, 0xaa, sizeof isk);
        CHECK_EQ_INT(
            cpace_finish(isk, CPACE_IR, CPACE_A, ya.b, S(&sid), S(&Ya), S(&ada), S(&y), S(&adb)),
            CPACE_E_POINT);
        CHECK(sodium_is_zero(isk, sizeof isk));
        /* and B receives it as Ya */
        bytes yb = H(e, "yb"), Yb = H(e, "Yb");
        CHECK_EQ_INT(
            cpace_finish(isk, CPACE_IR, CPACE_B, yb.b, S(&sid), S(&y), S(&ada), S(&Yb), S(&adb)),
            CPACE_E_POINT);
    }
    CHECK_EQ_INT(json_array_size(json_object_get(v, "invalid_points")), 2);
    /* a share of the wrong length is refused, never read past its end */
    json_t *e = json_object_get(v, "exchange");
    bytes ya = H(e, "ya"), sid = H(e, "sid"), Ya = H(e, "Ya"), Yb = H(e, "Yb");
    uint8_t isk[64];
    guarded g = guard_copy(Yb.b, 31);
    cpace_str short_yb = {g.data, 31}, empty = {NULL, 0};
    CHECK_EQ_INT(
        cpace_finish(isk, CPACE_IR, CPACE_A, ya.b, S(&sid), S(&Ya), empty, short_yb, empty),
        CPACE_E_POINT);
    guard_free(&g);
}

/* sampled scalars: top four bits clear, and fresh each time */
static void test_sample(void)
{
    uint8_t a[32], b[32];
    for (int i = 0; i < 64; i++) {
        cpace_sample_scalar(a);
        CHECK((a[31] & 0xf0) == 0);
    }
    cpace_sample_scalar(b);
    CHECK(memcmp(a, b, 32) != 0);
}

/* ---------------- main ---------------- */

static void test_shared(json_t *v);

int main(int argc, char **argv)
{
    if (sodium_init() < 0) return 1;
    json_t *draft = load(argc > 1 ? argv[1] : NULL, "/../../docs/vectors/cpace-ristretto255.json");
    json_t *shared = load(argc > 2 ? argv[2] : NULL, "/../../web/src/crypto/auth-vectors.json");
    if (!draft || !shared) return 1;
    CHECK_EQ_STR(J(draft, "suite"), "CPACE-RISTR255-SHA512");
    test_strings(draft);
    test_generator(draft);
    test_exchange(draft);
    test_points(draft);
    test_sample();
    test_shared(shared);
    json_decref(draft);
    json_decref(shared);
    return CHECK_DONE();
}

/* ---------------- 2. the shared vectors ---------------- */

static const cpace_str EMPTY = {NULL, 0};

static void test_key_schedule(json_t *v)
{
    json_t *a = json_object_get(v, "argon2id"), *k;
    CHECK_EQ_INT(json_integer_value(json_object_get(a, "t")), PAKE_ARGON2_T);
    CHECK_EQ_INT(json_integer_value(json_object_get(a, "mKiB")), PAKE_ARGON2_M_KIB);
    CHECK_EQ_INT(json_integer_value(json_object_get(a, "p")), 1); /* libsodium's only lane count */
    CHECK_EQ_INT(json_integer_value(json_object_get(a, "len")), PAKE_STRETCHED_LEN);
    size_t i;
    json_array_foreach(json_object_get(v, "keySchedule"), i, k)
    {
        const char *room = J(k, "room");
        bytes secret = H(k, "secretHex");
        CHECK_EQ_MEM(secret.b, secret.len, J(k, "secret"), strlen(J(k, "secret")));
        uint8_t salt[PAKE_SALT_LEN], stretched[PAKE_STRETCHED_LEN];
        CHECK_EQ_INT(pake_keys_salt(salt, room, strlen(room)), PAKE_OK);
        CHECK_BYTES(salt, sizeof salt, H(k, "salt"));
        CHECK_EQ_INT(pake_keys_stretch(stretched, (const char *)secret.b, secret.len, salt),
                     PAKE_OK);
        CHECK_BYTES(stretched, sizeof stretched, H(k, "stretched"));
        pake_keys keys;
        CHECK_EQ_INT(pake_keys_split(&keys, stretched), PAKE_OK);
        CHECK_BYTES(keys.prs, sizeof keys.prs, H(k, "prs"));
        char adm[2 * PAKE_ADMISSION_LEN + 1];
        pake_keys_admission_hex(adm, &keys);
        CHECK_EQ_STR(adm, J(k, "admission"));
        if (i == 1) { /* the one-call schedule is its steps */
            pake_keys d;
            CHECK_EQ_INT(
                pake_keys_derive(&d, (const char *)secret.b, secret.len, room, strlen(room)),
                PAKE_OK);
            CHECK(memcmp(&d, &keys, sizeof d) == 0);
            pake_keys_wipe(&d);
            CHECK(sodium_is_zero((const uint8_t *)&d, sizeof d));
        }
    }
    CHECK_EQ_INT(json_array_size(json_object_get(v, "keySchedule")), 4);
    /* the limits of the signaling contract */
    pake_keys d;
    char big[PAKE_SECRET_MAX + 1], room[PAKE_ROOM_MAX + 1];
    memset(big, 'a', sizeof big);
    memset(room, 'r', sizeof room);
    CHECK_EQ_INT(pake_keys_derive(&d, big, 0, "r", 1), PAKE_E_ARG);
    CHECK_EQ_INT(pake_keys_derive(&d, big, sizeof big, "r", 1), PAKE_E_ARG);
    CHECK_EQ_INT(pake_keys_derive(&d, big, 1, room, 0), PAKE_E_ARG);
    CHECK_EQ_INT(pake_keys_derive(&d, big, 1, room, sizeof room), PAKE_E_ARG);
    uint8_t salt[PAKE_SALT_LEN];
    CHECK_EQ_INT(pake_keys_salt(salt, room, sizeof room), PAKE_E_ARG);
    CHECK_EQ_INT(pake_keys_salt(salt, room, PAKE_ROOM_MAX), PAKE_OK);
}

typedef struct session_vec {
    bytes sid, ya, yb, Ya, Yb, commit, isk, mac_key, Ta, Tb;
    const char *fp_o, *fp_a;
} session_vec;

static void test_session(json_t *v)
{
    json_t *s = json_object_get(v, "session");
    const char *room = J(s, "room"), *oid = J(s, "offererId"), *aid = J(s, "answererId");
    bytes prs = H(s, "prs"), sid = H(s, "sid"), ya = H(s, "ya"), yb = H(s, "yb");
    CHECK_EQ_STR(J(s, "ADa"), "");
    CHECK_EQ_STR(J(s, "ADb"), "");
    CHECK_BYTES(prs.b, prs.len, H(json_array_get(json_object_get(v, "keySchedule"), 0), "prs"));

    uint8_t ci[512];
    size_t ci_len = pake_ci(ci, sizeof ci, (cpace_str){(const uint8_t *)room, strlen(room)},
                            (cpace_str){(const uint8_t *)oid, strlen(oid)},
                            (cpace_str){(const uint8_t *)aid, strlen(aid)});
    CHECK_BYTES(ci, ci_len, H(s, "ci"));
    cpace_str CI = {ci, ci_len};

    /* the offerer (it opened the channel): share and commitment first */
    uint8_t Yb[32], Ya[32], commit[64];
    CHECK_EQ_INT(cpace_share(Ya, ya.b, S(&prs), CI, S(&sid)), CPACE_OK);
    CHECK_BYTES(Ya, 32, H(s, "Ya"));
    pake_commit(commit, S(&sid), Ya);
    CHECK_BYTES(commit, 64, H(s, "commit"));
    /* the answerer */
    CHECK_EQ_INT(cpace_share(Yb, yb.b, S(&prs), CI, S(&sid)), CPACE_OK);
    CHECK_BYTES(Yb, 32, H(s, "Yb"));
    cpace_str sYa = {Ya, 32}, sYb = {Yb, 32};
    uint8_t isk_a[64], isk_b[64];
    CHECK_EQ_INT(cpace_finish(isk_b, CPACE_IR, CPACE_B, yb.b, S(&sid), sYa, EMPTY, sYb, EMPTY),
                 CPACE_OK);
    CHECK_EQ_INT(cpace_finish(isk_a, CPACE_IR, CPACE_A, ya.b, S(&sid), sYa, EMPTY, sYb, EMPTY),
                 CPACE_OK);
    CHECK_BYTES(isk_a, 64, H(s, "isk"));
    CHECK_BYTES(isk_b, 64, H(s, "isk"));
    CHECK(pake_commit_check(commit, S(&sid), Ya));
    CHECK(!pake_commit_check(commit, S(&sid), Yb)); /* it binds the offerer's share */

    /* fingerprints as each side took them from its SDPs */
    char fo[PAKE_FP_MAX], fa[PAKE_FP_MAX];
    const char *lo = J(s, "fingerprintOffererSdp"), *la = J(s, "fingerprintAnswererSdp");
    CHECK(pake_fingerprint_canonical(fo, lo, strlen(lo)) > 0);
    CHECK(pake_fingerprint_canonical(fa, la, strlen(la)) > 0);
    CHECK_EQ_STR(fo, J(s, "fingerprintOfferer"));
    CHECK_EQ_STR(fa, J(s, "fingerprintAnswerer"));

    uint8_t key[64], ta[64], tb[64];
    pake_mac_key(key, S(&sid), isk_a);
    CHECK_BYTES(key, 64, H(s, "macKey"));
    pake_confirm_tag(tb, key, sYb, EMPTY, fo, fa);
    CHECK_BYTES(tb, 64, H(s, "Tb"));
    pake_confirm_tag(ta, key, sYa, EMPTY, fo, fa);
    CHECK_BYTES(ta, 64, H(s, "Ta"));
    CHECK(pake_confirm_check(tb, key, sYb, EMPTY, fo, fa));
    CHECK(pake_confirm_check(ta, key, sYa, EMPTY, fo, fa));
    CHECK(!pake_confirm_check(ta, key, sYb, EMPTY, fo, fa)); /* a tag is its sender's */

    char sas[PAKE_SAS_DIGITS + 1];
    CHECK_EQ_INT(pake_sas_digits(sas, isk_b), PAKE_OK);
    CHECK_EQ_STR(sas, J(s, "sas"));

    /* the five messages, byte for byte, in order */
    const pake_msg want[5] = {{.t = PAKE_MSG_START},
                              {.t = PAKE_MSG_SHARE},
                              {.t = PAKE_MSG_SHARE},
                              {.t = PAKE_MSG_CONFIRM},
                              {.t = PAKE_MSG_CONFIRM}};
    pake_msg m[5];
    memcpy(m, want, sizeof m);
    memcpy(m[0].sid, sid.b, 16), memcpy(m[0].commit, commit, 64);
    memcpy(m[1].y, Yb, 32), memcpy(m[2].y, Ya, 32);
    memcpy(m[3].mac, ta, 64), memcpy(m[4].mac, tb, 64);
    /* the opener speaks first (docs/protocol.md §5.1, auth-spec §A) */
    const char *from[5] = {"offerer", "answerer", "offerer", "offerer", "answerer"};
    json_t *msgs = json_object_get(s, "messages"), *e;
    size_t i;
    CHECK_EQ_INT(json_array_size(msgs), 5);
    json_array_foreach(msgs, i, e)
    {
        if (i >= 5) break;
        char text[PAKE_MSG_MAX_LEN];
        int n = pake_msg_encode(text, sizeof text, &m[i]);
        CHECK_EQ_MEM(text, n, J(e, "text"), strlen(J(e, "text")));
        CHECK_EQ_STR(J(e, "from"), from[i]);
        pake_msg d;
        CHECK_EQ_INT(pake_msg_decode((const uint8_t *)text, (size_t)n, &d), PAKE_OK);
        CHECK(memcmp(&d, &m[i], sizeof d) == 0);
    }
}

static void test_negative(json_t *v)
{
    json_t *s = json_object_get(v, "session"), *n = json_object_get(v, "negative");
    bytes sid = H(s, "sid"), ya = H(s, "ya"), yb = H(s, "yb"), Ya = H(s, "Ya"), Yb = H(s, "Yb");
    bytes isk = H(s, "isk"), commit = H(s, "commit");
    const char *fo = J(s, "fingerprintOfferer"), *fa = J(s, "fingerprintAnswerer");
    uint8_t key[64];
    pake_mac_key(key, S(&sid), isk.b);

    /* wrong password: recompute the answerer's side from its PRS */
    json_t *w = json_object_get(n, "wrongPassword");
    {
        const char *room = J(s, "room"), *oid = J(s, "offererId"), *aid = J(s, "answererId");
        uint8_t ci[512], Ybw[32], isk_a[64], isk_b[64], kw[64], tb[64], ta_w[64];
        size_t ci_len = pake_ci(ci, sizeof ci, (cpace_str){(const uint8_t *)room, strlen(room)},
                                (cpace_str){(const uint8_t *)oid, strlen(oid)},
                                (cpace_str){(const uint8_t *)aid, strlen(aid)});
        bytes prs_w = H(w, "answererPrs");
        CHECK_BYTES(prs_w.b, prs_w.len,
                    H(json_array_get(json_object_get(v, "keySchedule"), 1), "prs"));
        CHECK_EQ_INT(cpace_share(Ybw, yb.b, S(&prs_w), (cpace_str){ci, ci_len}, S(&sid)), CPACE_OK);
        CHECK_BYTES(Ybw, 32, H(w, "Yb"));
        cpace_str sYa = S(&Ya), sYbw = {Ybw, 32};
        CHECK_EQ_INT(cpace_finish(isk_b, CPACE_IR, CPACE_B, yb.b, S(&sid), sYa, EMPTY, sYbw, EMPTY),
                     CPACE_OK);
        CHECK_EQ_INT(cpace_finish(isk_a, CPACE_IR, CPACE_A, ya.b, S(&sid), sYa, EMPTY, sYbw, EMPTY),
                     CPACE_OK);
        CHECK_BYTES(isk_b, 64, H(w, "iskAnswerer"));
        CHECK_BYTES(isk_a, 64, H(w, "iskOfferer"));
        CHECK(memcmp(isk_a, isk_b, 64) != 0);
        pake_mac_key(kw, S(&sid), isk_b);
        pake_confirm_tag(tb, kw, sYbw, EMPTY, fo, fa);
        CHECK_BYTES(tb, 64, H(w, "Tb"));
        pake_mac_key(kw, S(&sid), isk_a); /* the offerer checks with its own key: refused */
        CHECK(!pake_confirm_check(tb, kw, sYbw, EMPTY, fo, fa));
        pake_confirm_tag(ta_w, kw, sYa, EMPTY, fo, fa); /* and the answerer refuses Ta */
        CHECK_BYTES(ta_w, 64, H(w, "Ta"));
        pake_mac_key(kw, S(&sid), isk_b);
        CHECK(!pake_confirm_check(ta_w, kw, sYa, EMPTY, fo, fa));
        char sa[7], sb[7];
        pake_sas_digits(sa, isk_a), pake_sas_digits(sb, isk_b);
        CHECK_EQ_STR(sa, J(w, "sasOfferer"));
        CHECK_EQ_STR(sb, J(w, "sasAnswerer"));
        CHECK(strcmp(sa, sb) != 0);
    }

    /* swapped fingerprints */
    bytes ta_swapped = H(json_object_get(n, "swappedFingerprints"), "Ta");
    uint8_t t[64];
    pake_confirm_tag(t, key, S(&Ya), EMPTY, fa, fo);
    CHECK_BYTES(t, 64, ta_swapped);
    CHECK(!pake_confirm_check(ta_swapped.b, key, S(&Ya), EMPTY, fo, fa));

    /* DTLS ending at a relay while the PAKE is relayed verbatim */
    json_t *r = json_object_get(n, "relayedFingerprints");
    const char *r1 = J(r, "relayOffererView"), *r2 = J(r, "relayAnswererView");
    bytes ta = H(r, "Ta"), tb = H(r, "Tb");
    pake_confirm_tag(t, key, S(&Ya), EMPTY, fo, r1);
    CHECK_BYTES(t, 64, ta);
    pake_confirm_tag(t, key, S(&Yb), EMPTY, r2, fa);
    CHECK_BYTES(t, 64, tb);
    CHECK(!pake_confirm_check(tb.b, key, S(&Yb), EMPTY, fo, r1));
    CHECK(!pake_confirm_check(ta.b, key, S(&Ya), EMPTY, r2, fa));

    /* the identity and a bad encoding as the peer's share: both sides abort */
    const char *bad[2] = {"identity", "badEncoding"};
    for (int i = 0; i < 2; i++) {
        bytes y = H(json_object_get(n, bad[i]), "Y");
        uint8_t out[64];
        CHECK_EQ_INT(
            cpace_finish(out, CPACE_IR, CPACE_A, ya.b, S(&sid), S(&Ya), EMPTY, S(&y), EMPTY),
            CPACE_E_POINT);
        CHECK_EQ_INT(
            cpace_finish(out, CPACE_IR, CPACE_B, yb.b, S(&sid), S(&y), EMPTY, S(&Yb), EMPTY),
            CPACE_E_POINT);
    }

    /* a revealed share that is not the committed one */
    bytes other = H(json_object_get(n, "brokenCommitment"), "Ya");
    CHECK(!pake_commit_check(commit.b, S(&sid), other.b));
    CHECK(pake_commit_check(commit.b, S(&sid), Ya.b));
}

static void test_sas(json_t *v)
{
    json_t *c;
    size_t i;
    bool leading_zero = false;
    json_array_foreach(json_object_get(v, "sas"), i, c)
    {
        bytes isk = H(c, "isk");
        char out[PAKE_SAS_DIGITS + 1];
        CHECK_EQ_INT(pake_sas_digits(out, isk.b), PAKE_OK);
        CHECK_EQ_STR(out, J(c, "sas"));
        leading_zero |= out[0] == '0';
    }
    CHECK(leading_zero); /* the zero padding is covered */
}

static void test_fingerprints(json_t *v)
{
    json_t *f = json_object_get(v, "fingerprints"), *c;
    size_t i;
    char out[PAKE_FP_MAX];
    json_array_foreach(json_object_get(f, "valid"), i, c)
    {
        const char *in = J(c, "input");
        guarded g = guard_copy(in, strlen(in));
        int n = pake_fingerprint_canonical(out, g.data, strlen(in));
        CHECK_EQ_MEM(out, n > 0 ? (size_t)n : 0, J(c, "canonical"), strlen(J(c, "canonical")));
        guard_free(&g);
    }
    json_array_foreach(json_object_get(f, "invalid"), i, c)
    {
        const char *in = json_string_value(c);
        guarded g = guard_copy(in, strlen(in));
        int n = pake_fingerprint_canonical(out, g.data, strlen(in));
        if (n != PAKE_E_FINGERPRINT) fprintf(stderr, "accepted fingerprint: %s\n", in);
        CHECK_EQ_INT(n, PAKE_E_FINGERPRINT);
        CHECK_EQ_STR(out, "");
        guard_free(&g);
    }
    CHECK(json_array_size(json_object_get(f, "invalid")) >= 10);
}

static int problem_code(const char *p)
{
    if (!strcmp(p, "TOO_BIG")) return PAKE_E_TOO_BIG;
    if (!strcmp(p, "NOT_PAKE")) return PAKE_E_NOT_PAKE;
    if (!strcmp(p, "SUITE")) return PAKE_E_SUITE;
    if (!strcmp(p, "MSG")) return PAKE_E_MSG;
    return 1;
}

static void test_messages(json_t *v)
{
    json_t *m = json_object_get(v, "messages"), *c;
    size_t i;
    json_array_foreach(json_object_get(m, "valid"), i, c)
    {
        const char *text = J(c, "text");
        guarded g = guard_copy(text, strlen(text));
        pake_msg d;
        CHECK_EQ_INT(pake_msg_decode(g.data, strlen(text), &d), PAKE_OK);
        char out[PAKE_MSG_MAX_LEN];
        int n = pake_msg_encode(out, sizeof out, &d);
        CHECK_EQ_MEM(out, n > 0 ? (size_t)n : 0, J(c, "canonical"), strlen(J(c, "canonical")));
        /* a buffer one byte short is refused, not overrun */
        CHECK_EQ_INT(pake_msg_encode(out, (size_t)n, &d), PAKE_E_ARG);
        guard_free(&g);
    }
    json_array_foreach(json_object_get(m, "invalid"), i, c)
    {
        const char *text = J(c, "text");
        guarded g = guard_copy(text, strlen(text));
        pake_msg d;
        int r = pake_msg_decode(g.data, strlen(text), &d);
        if (r != problem_code(J(c, "problem")))
            fprintf(stderr, "message %s: got %s\n", text, pake_strerror(r));
        CHECK_EQ_INT(r, problem_code(J(c, "problem")));
        guard_free(&g);
    }
    CHECK(json_array_size(json_object_get(m, "invalid")) >= 15);
}

static const char *state_name(pake_state st)
{
    static const char *const names[] = {"wait-start", "wait-share", "wait-confirm", "done",
                                        "failed"};
    return (unsigned)st < 5 ? names[st] : "?";
}

static const char *result_name(int r)
{
    return r == PAKE_OK           ? "ok"
           : r == PAKE_E_AUTH     ? "auth"
           : r == PAKE_E_NOT_PAKE ? "not-pake"
                                  : "?";
}

/* Compares what the session queued with a JSON array of texts. */
static void check_outputs(pake_session *p, json_t *want, const char *run)
{
    const char *text;
    size_t len, n = 0;
    while (pake_session_next_output(p, &text, &len)) {
        const char *w = json_string_value(json_array_get(want, n));
        if (!w || strlen(w) != len || memcmp(w, text, len) != 0)
            fprintf(stderr, "run '%s': output %zu differs: %.*s\n", run, n, (int)len, text);
        CHECK(w && strlen(w) == len && memcmp(w, text, len) == 0);
        n++;
    }
    CHECK_EQ_INT(n, json_array_size(want));
}

/* Each side's run of the state machine (src/pake/session.c), step by step,
 * exactly as the TS PakeSession went through it. */
static void test_session_runs(json_t *v)
{
    json_t *s = json_object_get(v, "session"), *r;
    const char *room = J(s, "room"), *oid = J(s, "offererId"), *aid = J(s, "answererId");
    size_t i;
    json_array_foreach(json_object_get(v, "sessionRuns"), i, r)
    {
        const char *name = J(r, "name");
        bytes prs = H(r, "prs"), y = H(r, "y"), sid = H(r, "sid");
        pake_session_config c = {
            .role = strcmp(J(r, "role"), "offerer") == 0 ? PAKE_OFFERER : PAKE_ANSWERER,
            .prs = prs.b,
            .room = {(const uint8_t *)room, strlen(room)},
            .offerer_id = {(const uint8_t *)oid, strlen(oid)},
            .answerer_id = {(const uint8_t *)aid, strlen(aid)},
            .fp_offerer = J(r, "fingerprintOfferer"),
            .fp_answerer = J(r, "fingerprintAnswerer"),
        };
        pake_session p;
        CHECK_EQ_INT(pake_session_init(&p, &c, y.b, sid.len ? sid.b : NULL), PAKE_OK);
        check_outputs(&p, json_object_get(r, "initialOutputs"), name);
        json_t *st;
        size_t j;
        json_array_foreach(json_object_get(r, "steps"), j, st)
        {
            const char *feed = J(st, "feed");
            guarded g = guard_copy(feed, strlen(feed));
            int res = pake_session_feed(&p, g.data, strlen(feed));
            guard_free(&g);
            if (strcmp(result_name(res), J(st, "result")) ||
                strcmp(state_name(p.state), J(st, "state")))
                fprintf(stderr, "run '%s' step %zu: %s/%s, want %s/%s\n", name, j, result_name(res),
                        state_name(p.state), J(st, "result"), J(st, "state"));
            CHECK_EQ_STR(result_name(res), J(st, "result"));
            CHECK_EQ_STR(state_name(p.state), J(st, "state"));
            CHECK_EQ_STR(p.reason ? p.reason : "", J(st, "reason"));
            check_outputs(&p, json_object_get(st, "outputs"), name);
        }
        const char *sas = pake_session_sas(&p);
        CHECK_EQ_STR(sas ? sas : "", J(r, "sas"));
        if (p.state == PAKE_FAILED || p.state == PAKE_DONE) {
            /* the end wipes the password-derived values, and the scalar */
            CHECK(sodium_is_zero(p.prs, sizeof p.prs) && sodium_is_zero(p.y, sizeof p.y) &&
                  sodium_is_zero(p.mac_key, sizeof p.mac_key));
            CHECK_EQ_INT(pake_session_feed(&p, (const uint8_t *)"{}", 2), PAKE_E_ARG);
        }
        pake_session_cleanup(&p);
    }
    CHECK(json_array_size(json_object_get(v, "sessionRuns")) >= 16);
}

/* Configs the session must refuse, and two random sessions that meet. */
static void test_session_api(json_t *v)
{
    json_t *s = json_object_get(v, "session");
    bytes prs = H(s, "prs");
    const char *fo = J(s, "fingerprintOfferer"), *fa = J(s, "fingerprintAnswerer");
    pake_session_config c = {.role = PAKE_OFFERER,
                             .prs = prs.b,
                             .room = {(const uint8_t *)"room", 4},
                             .offerer_id = {(const uint8_t *)"a", 1},
                             .answerer_id = {(const uint8_t *)"b", 1},
                             .fp_offerer = fo,
                             .fp_answerer = fa};
    pake_session a, b;
    uint8_t y[32] = {1};
    pake_session_config bad = c;
    bad.fp_offerer = J(s, "fingerprintOffererSdp"); /* an SDP line, not canonical */
    uint8_t sid16[PAKE_SID_LEN] = {2};
    CHECK_EQ_INT(pake_session_init(&a, &bad, y, sid16), PAKE_E_ARG);
    CHECK_EQ_INT(a.state, PAKE_FAILED);
    bad = c;
    bad.room.len = 0;
    CHECK_EQ_INT(pake_session_init(&a, &bad, y, sid16), PAKE_E_ARG);
    bad = c; /* an offerer needs a sid: it chooses it */
    CHECK_EQ_INT(pake_session_init(&a, &bad, y, NULL), PAKE_E_ARG);
    CHECK_EQ_INT(a.state, PAKE_FAILED);
    bad = c;
    bad.fp_answerer = "sha-256 00";
    CHECK_EQ_INT(pake_session_init(&a, &bad, y, sid16), PAKE_E_ARG);

    /* two sessions with fresh randomness, messages passed across */
    CHECK_EQ_INT(pake_session_init_random(&a, &c), PAKE_OK);
    c.role = PAKE_ANSWERER;
    CHECK_EQ_INT(pake_session_init_random(&b, &c), PAKE_OK);
    const char *text;
    size_t len;
    for (int round = 0; round < 4; round++) { /* bounded: the run takes three */
        while (pake_session_next_output(&b, &text, &len))
            CHECK_EQ_INT(pake_session_feed(&a, (const uint8_t *)text, len), PAKE_OK);
        while (pake_session_next_output(&a, &text, &len))
            CHECK_EQ_INT(pake_session_feed(&b, (const uint8_t *)text, len), PAKE_OK);
    }
    CHECK_EQ_INT(a.state, PAKE_DONE);
    CHECK_EQ_INT(b.state, PAKE_DONE);
    CHECK(pake_session_sas(&a) && pake_session_sas(&b) &&
          strcmp(pake_session_sas(&a), pake_session_sas(&b)) == 0);
    pake_session_cleanup(&a);
    pake_session_cleanup(&b);
}

/* Every single bit flipped in any of the five messages, in transit
 * between two honest sessions: the run never completes on both sides
 * (at least one side fails; nobody shows a code the other does not). */
static void test_bit_flips(json_t *v)
{
    json_t *s = json_object_get(v, "session");
    bytes prs = H(s, "prs"), ya = H(s, "ya"), yb = H(s, "yb"), sid = H(s, "sid");
    const char *room = J(s, "room"), *oid = J(s, "offererId"), *aid = J(s, "answererId");
    pake_session_config c = {.prs = prs.b,
                             .room = {(const uint8_t *)room, strlen(room)},
                             .offerer_id = {(const uint8_t *)oid, strlen(oid)},
                             .answerer_id = {(const uint8_t *)aid, strlen(aid)},
                             .fp_offerer = J(s, "fingerprintOfferer"),
                             .fp_answerer = J(s, "fingerprintAnswerer")};
    int runs = 0, completed = 0;
    for (int target = 0; target < 5; target++) {
        for (size_t bit = 0;; bit++) {
            pake_session a, b;
            c.role = PAKE_OFFERER;
            pake_session_init(&a, &c, ya.b, sid.b);
            c.role = PAKE_ANSWERER;
            pake_session_init(&b, &c, yb.b, NULL);
            int index = 0;
            bool flipped = false;
            for (int round = 0; round < 4; round++) { /* the honest run takes three */
                /* the opener speaks first */
                pake_session *from[2] = {&a, &b}, *to[2] = {&b, &a};
                for (int dir = 0; dir < 2; dir++) {
                    const char *text;
                    size_t len;
                    while (pake_session_next_output(from[dir], &text, &len)) {
                        char copy[PAKE_MSG_MAX_LEN];
                        memcpy(copy, text, len);
                        if (index++ == target && bit < 8 * len) {
                            copy[bit / 8] ^= (char)(1u << (bit % 8));
                            flipped = true;
                        }
                        if (to[dir]->state != PAKE_DONE && to[dir]->state != PAKE_FAILED)
                            pake_session_feed(to[dir], (const uint8_t *)copy, len);
                    }
                }
            }
            bool both_done = a.state == PAKE_DONE && b.state == PAKE_DONE;
            pake_session_cleanup(&a);
            pake_session_cleanup(&b);
            if (!flipped) {
                CHECK(both_done); /* past the message's end: the honest run */
                break;
            }
            runs++;
            completed += both_done;
            if (both_done)
                fprintf(stderr, "message %d bit %zu flipped: both sides done\n", target, bit);
        }
    }
    CHECK(runs >= 8 * (231 + 89 + 89 + 157 + 157));
    CHECK_EQ_INT(completed, 0);
}

static void test_shared(json_t *v)
{
    /* 2: the offerer commits and speaks first (auth-spec §A) */
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "version")), 2);
    CHECK_EQ_STR(J(v, "suite"), PAKE_SUITE);
    test_key_schedule(v);
    test_session(v);
    test_negative(v);
    test_sas(v);
    test_fingerprints(v);
    test_messages(v);
    test_session_runs(v);
    test_session_api(v);
    test_bit_flips(v);
}
