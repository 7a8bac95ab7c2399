/* id.h: random identifiers for sessions and sockets.
 * 20 characters of URL-safe base64 from 15 random bytes (120 bits, from
 * libsodium's CSPRNG): unguessable, because a socket id is the address that
 * peers use to reach each other. */
#ifndef PD_ID_H
#define PD_ID_H

#define PD_ID_LEN 20

void pd_random_id(char out[PD_ID_LEN + 1]);

#endif
