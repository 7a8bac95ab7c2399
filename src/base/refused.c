/* refused.c: see refused.h. */
#include "refused.h"

static uint64_t counts[PD_REFUSAL_COUNT];

static const char *const names[PD_REFUSAL_COUNT] = {
#define PD_REFUSAL_NAME(name, text) text,
    PD_REFUSALS(PD_REFUSAL_NAME)
#undef PD_REFUSAL_NAME
};

void pd_refused(pd_refusal r)
{
    if (r < PD_REFUSAL_COUNT) counts[r]++;
}

uint64_t pd_refused_count(pd_refusal r)
{
    return r < PD_REFUSAL_COUNT ? counts[r] : 0;
}

const char *pd_refusal_name(pd_refusal r)
{
    return r < PD_REFUSAL_COUNT ? names[r] : "unknown";
}
