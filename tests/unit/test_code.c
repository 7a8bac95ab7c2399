/* test_code.c: src/pake/code.c, the short codes of issue 14. The word
 * list obeys its rules (docs/authentication.md "Short codes": 256
 * distinct words of 4-8 letters a-z, sorted, none a prefix of another,
 * no two within edit distance 1, so a typo is caught and never becomes
 * another word); the shared vectors docs/vectors/short-codes.json
 * (normalisation, which inputs are codes, the PRS of two codes), which
 * the web app replays too; drawing random codes. The vectors' path comes
 * from this source's path, or argv[1]. */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pake/code.h"
#include "pake/keys.h"

static json_t *load(const char *arg)
{
    char path[4096];
    if (arg) {
        snprintf(path, sizeof path, "%s", arg);
    } else {
        snprintf(path, sizeof path, "%s", __FILE__);
        char *slash = strrchr(path, '/');
        if (slash) *slash = 0;
        strncat(path, "/../../docs/vectors/short-codes.json", sizeof path - strlen(path) - 1);
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

/* Levenshtein distance at most 1 */
static bool within_one_edit(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la < lb) {
        const char *t = a;
        a = b, b = t;
        size_t tl = la;
        la = lb, lb = tl;
    }
    if (la - lb > 1) return false;
    size_t i = 0;
    while (i < lb && a[i] == b[i])
        i++;
    if (la == lb) return strcmp(a + i + (i < la), b + i + (i < lb)) == 0;
    return strcmp(a + i + 1, b + i) == 0;
}

static void test_word_rules(void)
{
    int bad_chars = 0, unsorted = 0, prefix = 0, close = 0, not_found = 0;
    for (int i = 0; i < CODE_WORD_COUNT; i++) {
        const char *w = code_words[i];
        size_t l = strlen(w);
        if (l < CODE_WORD_MIN_LEN || l > CODE_WORD_MAX_LEN ||
            strspn(w, "abcdefghijklmnopqrstuvwxyz") != l) {
            fprintf(stderr, "word %d \"%s\": not 4-8 letters a-z\n", i, w);
            bad_chars++;
        }
        if (i > 0 && strcmp(code_words[i - 1], w) >= 0) unsorted++;
        if (code_word_index(w, l) != i) not_found++;
        for (int j = 0; j < CODE_WORD_COUNT; j++) {
            if (j == i) continue;
            const char *o = code_words[j];
            if (strncmp(o, w, l) == 0) {
                fprintf(stderr, "\"%s\" is a prefix of \"%s\"\n", w, o);
                prefix++;
            }
            if (j > i && within_one_edit(w, o)) {
                fprintf(stderr, "\"%s\" and \"%s\" are one edit apart\n", w, o);
                close++;
            }
        }
    }
    CHECK_EQ_INT(bad_chars, 0);
    CHECK_EQ_INT(unsorted, 0); /* distinct too */
    CHECK_EQ_INT(prefix, 0);   /* also: no word twice */
    CHECK_EQ_INT(close, 0);
    CHECK_EQ_INT(not_found, 0);
    /* the checker itself */
    CHECK(within_one_edit("lemon", "lemn"));
    CHECK(within_one_edit("lemon", "lemons"));
    CHECK(within_one_edit("lemon", "demon"));
    CHECK(within_one_edit("lemon", "lemon"));
    CHECK(!within_one_edit("lemon", "melon"));
    CHECK(!within_one_edit("lemon", "le"));
    CHECK_EQ_INT(code_word_index("lemons", 6), -1);
    CHECK_EQ_INT(code_word_index("lemon", 4), -1); /* "lemo" */
    CHECK_EQ_INT(code_word_index("", 0), -1);
}

static void test_vectors(json_t *v)
{
    CHECK_EQ_INT(json_integer_value(json_object_get(v, "wordCount")), CODE_WORD_COUNT);
    json_t *k;
    size_t i;
    size_t valid = 0, invalid = 0;
    json_array_foreach(json_object_get(v, "normalise"), i, k)
    {
        const char *in = J(k, "input"), *want = J(k, "code"), *want_err = J(k, "error");
        short_code c;
        char err[CODE_ERROR_CAP];
        bool ok = code_parse(in, &c, err, sizeof err);
        if (want) {
            valid++;
            CHECK(ok);
            if (!ok) {
                fprintf(stderr, "  input \"%s\": %s\n", in, err);
                continue;
            }
            char canon[CODE_MAX_LEN + 1], room[CODE_ROOM_MAX_LEN + 1];
            code_format(&c, canon);
            code_room(&c, room);
            CHECK_EQ_STR(canon, want);
            CHECK_EQ_STR(room, J(k, "room"));
        } else {
            invalid++;
            CHECK(!ok);
            CHECK_EQ_STR(err, want_err ? want_err : "(no error in the vector)");
        }
    }
    CHECK(valid >= 5);
    CHECK(invalid >= 10);
    json_array_foreach(json_object_get(v, "looksLike"), i, k)
    {
        bool want = json_is_true(json_object_get(k, "code"));
        if (code_looks_like(J(k, "input")) != want) {
            fprintf(stderr, "  looksLike \"%s\" should be %d\n", J(k, "input"), want);
            CHECK(false);
        }
    }
    size_t n = 0;
    json_array_foreach(json_object_get(v, "keySchedule"), i, k)
    {
        pake_keys keys;
        const char *s = J(k, "code"), *room = J(k, "room");
        CHECK_EQ_INT(pake_keys_derive(&keys, s, strlen(s), room, strlen(room)), PAKE_OK);
        char hex[2 * PAKE_PRS_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, keys.prs, sizeof keys.prs);
        CHECK_EQ_STR(hex, J(k, "prs"));
        n++;
    }
    CHECK_EQ_INT(n, 2);
}

static void test_random(void)
{
    unsigned max_seen = 0, min_seen = 99999;
    for (int i = 0; i < 2000; i++) {
        short_code c;
        code_random(&c, 99);
        if (c.nameplate > max_seen) max_seen = c.nameplate;
        if (c.nameplate < min_seen) min_seen = c.nameplate;
        char canon[CODE_MAX_LEN + 1];
        code_format(&c, canon);
        short_code back;
        char err[CODE_ERROR_CAP];
        if (!code_parse(canon, &back, err, sizeof err) || back.nameplate != c.nameplate ||
            back.word1 != c.word1 || back.word2 != c.word2) {
            fprintf(stderr, "  %s does not parse back: %s\n", canon, err);
            CHECK(false);
        }
    }
    CHECK(min_seen >= 1);
    CHECK(max_seen <= 99);
    short_code c;
    code_random(&c, 100000); /* clamped */
    CHECK(c.nameplate >= 1 && c.nameplate <= CODE_NAMEPLATE_MAX);
    code_random(&c, 0);
    CHECK_EQ_INT(c.nameplate, 1);
    /* a code of the longest words fits CODE_MAX_LEN */
    short_code longest = {CODE_NAMEPLATE_MAX, 0, 0};
    size_t lmax = 0;
    for (unsigned i = 0; i < CODE_WORD_COUNT; i++)
        if (strlen(code_words[i]) > lmax)
            lmax = strlen(code_words[i]), longest.word1 = longest.word2 = i;
    char canon[CODE_MAX_LEN + 1];
    code_format(&longest, canon);
    CHECK(strlen(canon) <= CODE_MAX_LEN);
    CHECK(!code_parse(NULL, &c, NULL, 0));
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) return 1;
    test_word_rules();
    json_t *v = load(argc > 1 ? argv[1] : NULL);
    if (!v) return 1;
    test_vectors(v);
    test_random();
    json_decref(v);
    return CHECK_DONE();
}
