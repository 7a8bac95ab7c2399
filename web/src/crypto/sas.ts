/* The short verification code both peers show (docs/authentication.md §6),
 * the twin of src/pake/sas.c: six digits,
 *   n = HKDF-SHA-512(ISK, salt "", info LABEL_SAS), 8 bytes big-endian; n mod 10^6 */
import { hkdfSha512, LABEL_SAS } from './keys';

export const SAS_DIGITS = 6;

export function sasDigits(isk: Uint8Array): string {
  const b = hkdfSha512(isk, LABEL_SAS, 8);
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  b.fill(0);
  return (n % 1000000n).toString().padStart(SAS_DIGITS, '0');
}
