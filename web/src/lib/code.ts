/* Short codes (issue 14, docs/authentication.md "Short codes"): what
 * `peerdrop send --code` prints, e.g. 7-guitarist-revenge, a nameplate
 * 1-9999 and two words of one 256-word list. The nameplate finds the room
 * (`code-7`); the whole code is the room secret of the key schedule, which
 * never leaves the page (the server gets nothing derived from it).
 *
 * The word list is docs/vectors/code-words.txt, the one file the C CLI
 * builds its array from too (its order is each word's value); Vite inlines
 * it here (?raw). Normalisation is the CLI's, byte for byte
 * (docs/vectors/short-codes.json replays both). */

import wordsText from '../../../docs/vectors/code-words.txt?raw';
import { readFragment } from './link';
import { msg, type Msg } from '../i18n/catalog';

/** The list's size: 2^8, so two words carry 16 bits. */
export const CODE_WORD_COUNT = 256;
export const NAMEPLATE_MAX = 9999;
/** Longer input (in UTF-8 bytes, after trimming) is not a code: a pasted
 * code with spaces around its parts fits many times over (code.h
 * CODE_INPUT_MAX_LEN). */
export const CODE_INPUT_MAX = 256;
/* An unknown word longer than this is not echoed (code.c CODE_ERR_WORD_MAX):
 * the message stays one line. */
const SHOWN_MAX = 32;

/** The words in their file's order (one a line). */
export const CODE_WORDS: readonly string[] = wordsText.split('\n').filter((w) => w !== '');
const WORD_SET: ReadonlySet<string> = new Set(CODE_WORDS);

export interface Code {
  /** Canonical form: lowercase ASCII, single hyphens (the room secret). */
  code: string;
  nameplate: number;
  /** The code room's id at the server: `code-<nameplate>`. */
  roomId: string;
}

/** A refusal is a message whose English text is the CLI's, byte for byte
 *  (docs/vectors/short-codes.json checks it); other locales translate it. */
export type CodeResult = { ok: true; value: Code } | { ok: false; error: Msg };

export function codeRoomId(nameplate: number): string {
  return `code-${nameplate}`;
}

/* ASCII only, as the C side (isspace in the C locale; no Unicode case
 * mapping: "İ" is not "i"), so both clients read the same bytes the same way. */
const SPACE = '[ \\t\\n\\v\\f\\r]';
const trimAscii = (s: string) => s.replace(new RegExp(`^${SPACE}+|${SPACE}+$`, 'g'), '');
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
const fail = (why: Msg): CodeResult => ({ ok: false, error: why });
const SHAPE = msg('code.shape', { example: '7-guitar-lemon' });

/** Does the text look like a code rather than a link or a room id: after
 * leading white space, digits, then a space, '_' or '-', then a letter?
 * (code.h code_looks_like; the vectors' looksLike.) */
export function looksLikeCode(text: string): boolean {
  return new RegExp(`^${SPACE}*[0-9]+[ _-]+[A-Za-z]`).test(text);
}

/** Normalises typed input (docs/authentication.md: trim, ASCII-lowercase,
 * runs of spaces, underscores and hyphens to one hyphen) and checks the
 * grammar <nameplate>-<word>-<word>: the nameplate 1-9999 without leading
 * zeros, both words in the list. The checks and their order are code.c's,
 * so that both clients give the same error (docs/vectors/short-codes.json). */
export function parseCode(input: string): CodeResult {
  const t = trimAscii(input);
  if (t === '') return fail(msg('code.empty'));
  if (new TextEncoder().encode(t).length > CODE_INPUT_MAX) return fail(msg('code.tooLong'));
  const parts = asciiLower(t).replace(/[ _-]+/g, '-').split('-');
  const [plate, w1, w2] = parts;
  if (plate === undefined || w1 === undefined || w2 === undefined || parts.length !== 3 || parts.some((p) => p === '')) return fail(SHAPE);
  if (!/^[0-9]+$/.test(plate)) return fail(SHAPE);
  if (plate.startsWith('0') || plate.length > 4) return fail(msg('code.number', { max: String(NAMEPLATE_MAX) }));
  for (const w of [w1, w2]) {
    if (WORD_SET.has(w)) continue;
    // only a short word of printable ASCII is shown back (no quote: it would end the quoted word)
    if (w.length > SHOWN_MAX || !/^[!#-~]+$/.test(w)) return fail(SHAPE);
    return fail(msg('code.unknownWord', { word: w }));
  }
  const nameplate = Number(plate);
  return { ok: true, value: { code: `${nameplate}-${w1}-${w2}`, nameplate, roomId: codeRoomId(nameplate) } };
}

export type ReceiveInput =
  | { kind: 'link'; roomId: string; password: string }
  | { kind: 'code'; code: Code }
  | { kind: 'error'; error: Msg };

/** What the home page's "Receive" box holds: a short code (it looks like
 * one: digits, a separator, a letter) or a room link (its fragment names
 * the room and its key: `#room=…&key=…`). Anything else gets the code's
 * error, which says what a code looks like. */
export function parseReceiveInput(input: string): ReceiveInput {
  const t = trimAscii(input);
  if (!looksLikeCode(t) && (t.includes('#') || /^[a-z][a-z0-9+.-]*:\/\//i.test(t))) {
    const hash = t.indexOf('#');
    const f = hash >= 0 ? readFragment(t.slice(hash)) : null;
    if (f && 'error' in f) return { kind: 'error', error: f.error };
    return f ? { kind: 'link', ...f } : { kind: 'error', error: msg('link.noKey') };
  }
  const r = parseCode(t);
  return r.ok ? { kind: 'code', code: r.value } : { kind: 'error', error: r.error };
}
