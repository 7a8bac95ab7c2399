/* ice_config.c: see ice_config.h. */
#include "ice_config.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "base/base64.h"

static json_t *url_list(const char *const *urls, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(urls[i]));
    return a;
}

/* socket_id NULL: no credentials (GET /config). */
static json_t *servers(const ice_config *cfg, int64_t now, const char *socket_id)
{
    json_t *list = json_array();
    if (cfg->stun_count)
        json_array_append_new(list,
                              json_pack("{s:o}", "urls", url_list(cfg->stun, cfg->stun_count)));
    if (cfg->turn_count) {
        json_t *turn = json_pack("{s:o}", "urls", url_list(cfg->turn, cfg->turn_count));
        if (cfg->turn_secret && socket_id) {
            char user[128];
            snprintf(user, sizeof user, "%lld:%s", (long long)now + cfg->turn_ttl_s, socket_id);
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned mac_len = 0;
            HMAC(EVP_sha1(), cfg->turn_secret, (int)strlen(cfg->turn_secret),
                 (const unsigned char *)user, strlen(user), mac, &mac_len);
            char cred[PD_BASE64_ENCODED_LEN(EVP_MAX_MD_SIZE) + 1];
            cred[pd_base64_encode(mac, mac_len, cred)] = '\0';
            json_object_set_new(turn, "username", json_string(user));
            json_object_set_new(turn, "credential", json_string(cred));
        }
        json_array_append_new(list, turn);
    }
    return list;
}

char *ice_config_json(const ice_config *cfg)
{
    json_t *root = json_pack("{s:o}", "iceServers", servers(cfg, 0, NULL));
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

json_t *ice_servers_for(const ice_config *cfg, int64_t now, const char *socket_id)
{
    return servers(cfg, now, socket_id);
}
