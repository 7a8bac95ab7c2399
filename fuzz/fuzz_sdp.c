/* fuzz_sdp.c: libFuzzer target for the SDP codec. Parses the input as a
 * description, re-serialises what it found (which must parse again), and
 * parses each candidate line it held. No state survives between runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/sdp.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

static char *dup_view(sdp_str s)
{
    char *p = malloc(s.len + 1);
    if (p) {
        memcpy(p, s.p, s.len);
        p[s.len] = '\0';
    }
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    sdp_candidate c;
    sdp_candidate_parse(in, size, &c);

    sdp_desc d;
    if (sdp_parse(in, size, &d) != SDP_OK) return 0;
    FUZZ_ASSERT(d.candidate_count <= SDP_MAX_CANDIDATES);
    for (size_t i = 0; i < d.candidate_count; i++) {
        FUZZ_ASSERT(d.candidates[i].p >= in &&
                    d.candidates[i].p + d.candidates[i].len <= in + size);
        sdp_candidate_parse(d.candidates[i].p, d.candidates[i].len, &c);
    }
    /* round trip: what we parsed, we can write, and it parses the same */
    char *ufrag = dup_view(d.ice_ufrag), *pwd = dup_view(d.ice_pwd);
    char *mid = d.mid.len ? dup_view(d.mid) : strdup("0");
    if (ufrag && pwd && mid) {
        sdp_local l = {.session_id = size,
                       .ice_ufrag = ufrag,
                       .ice_pwd = pwd,
                       .setup = d.setup == SDP_SETUP_NONE ? SDP_SETUP_ACTIVE : d.setup,
                       .mid = mid,
                       .sctp_port = d.sctp_port,
                       .max_message_size = d.max_message_size};
        memcpy(l.fingerprint, d.fingerprint, 32);
        char out[4096];
        int n = sdp_write(&l, out, sizeof out);
        FUZZ_ASSERT(n > 0);
        sdp_desc d2;
        FUZZ_ASSERT(sdp_parse(out, (size_t)n, &d2) == SDP_OK);
        FUZZ_ASSERT(memcmp(d2.fingerprint, d.fingerprint, 32) == 0);
        FUZZ_ASSERT(d2.ice_pwd.len == d.ice_pwd.len);
    }
    free(ufrag);
    free(pwd);
    free(mid);
    return 0;
}
