/* password.c: see password.h. */
#include "password.h"

#include <sodium.h>
#include <string.h>

bool password_cost_parse(const char *name, password_cost *out)
{
    static const char *const names[] = {"min", "interactive", "moderate", "sensitive"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (password_cost)i;
            return true;
        }
    }
    return false;
}

int password_hash(const char *password, size_t len, password_cost cost,
                  char out[PD_PASSWORD_HASH_MAX])
{
    unsigned long long ops;
    size_t mem;
    switch (cost) {
    case PASSWORD_COST_MIN:
        ops = crypto_pwhash_argon2id_OPSLIMIT_MIN;
        mem = crypto_pwhash_argon2id_MEMLIMIT_MIN;
        break;
    case PASSWORD_COST_MODERATE:
        ops = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
        mem = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
        break;
    case PASSWORD_COST_SENSITIVE:
        ops = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE;
        mem = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
        break;
    default:
        ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
        mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
        break;
    }
    return crypto_pwhash_argon2id_str(out, password, len, ops, mem) == 0 ? 0 : -1;
}

bool password_verify(const char *hash, const char *password, size_t len)
{
    return crypto_pwhash_argon2id_str_verify(hash, password, len) == 0;
}
