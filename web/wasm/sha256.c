/* SHA-256 compression for the web app, compiled to WebAssembly
 * (build-sha256.sh). FIPS 180-4. No libc: the JS side (src/protocol/sha256.ts)
 * keeps the buffering and padding; this only runs the block function over
 * whole 64-byte blocks at `data`, updating the eight state words at `st`. */

typedef unsigned int u32;

static const u32 K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

#define R(a, b, c, d, e, f, g, h, i) do { \
    u32 t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + (g ^ (e & (f ^ g))) + K[i] + w[i]; \
    u32 t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) | (c & (a | b))); \
    d += t1; h = t1 + t2; \
  } while (0)

/* Scratch memory the JS side writes into: state then input. */
u32 state[8];
unsigned char input[1 << 20];

__attribute__((export_name("blocks"))) void blocks(u32 nblocks) {
  u32 a, b, c, d, e, f, g, h, w[64];
  const unsigned char *p = input;
  u32 s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
  u32 s4 = state[4], s5 = state[5], s6 = state[6], s7 = state[7];
  for (; nblocks > 0; nblocks--, p += 64) {
    for (int i = 0; i < 16; i++)
      w[i] = (u32)p[4 * i] << 24 | (u32)p[4 * i + 1] << 16 | (u32)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
      u32 x = w[i - 15], y = w[i - 2];
      w[i] = w[i - 16] + (ROR(x, 7) ^ ROR(x, 18) ^ (x >> 3)) + w[i - 7] + (ROR(y, 17) ^ ROR(y, 19) ^ (y >> 10));
    }
    a = s0; b = s1; c = s2; d = s3; e = s4; f = s5; g = s6; h = s7;
    /* Eight rounds per step with the variables renamed instead of moved. */
    for (int i = 0; i < 64; i += 8) {
      R(a, b, c, d, e, f, g, h, i);
      R(h, a, b, c, d, e, f, g, i + 1);
      R(g, h, a, b, c, d, e, f, i + 2);
      R(f, g, h, a, b, c, d, e, i + 3);
      R(e, f, g, h, a, b, c, d, i + 4);
      R(d, e, f, g, h, a, b, c, i + 5);
      R(c, d, e, f, g, h, a, b, i + 6);
      R(b, c, d, e, f, g, h, a, i + 7);
    }
    s0 += a; s1 += b; s2 += c; s3 += d; s4 += e; s5 += f; s6 += g; s7 += h;
  }
  state[0] = s0; state[1] = s1; state[2] = s2; state[3] = s3;
  state[4] = s4; state[5] = s5; state[6] = s6; state[7] = s7;
}

__attribute__((export_name("statePtr"))) u32 *state_ptr(void) { return state; }
__attribute__((export_name("inputPtr"))) unsigned char *input_ptr(void) { return input; }
