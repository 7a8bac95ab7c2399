/* Short codes (issue 14): the word list's rules, the shared normalisation
 * vectors (docs/vectors/short-codes.json, which tests/unit/test_code.c
 * replays too, so both clients read a typed code the same way), the PRS
 * of a code, and what the home page's Receive box makes of its input. */
import { describe, expect, it } from 'vitest';
import vectors from '../../../docs/vectors/short-codes.json';
import { CODE_WORD_COUNT, CODE_WORDS, looksLikeCode, parseCode, parseReceiveInput } from './code';
import { codeRequest } from '../app/signaling';
import { translate } from '../i18n';
import type { Msg } from '../i18n/catalog';

/* A refusal in English: the CLI's words, which the vectors hold. */
const english = (m: Msg) => translate('en', m.key, m.params);
const shown = (r: ReturnType<typeof parseReceiveInput>) => (r.kind === 'error' ? { kind: r.kind, error: english(r.error) } : r);

const bytesHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function editDistanceAtMostOne(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const [x, y] = [a.slice(i + 1), b.slice(i + 1)];
  if (a.length === b.length) return x === y; // one substitution (or equal)
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1); // one deletion / insertion
}

describe('the word list (docs/vectors/code-words.txt)', () => {
  it('has 256 distinct words of 4-8 lowercase letters, as the vectors say', () => {
    expect(vectors.wordCount).toBe(CODE_WORD_COUNT);
    expect(CODE_WORDS.length).toBe(CODE_WORD_COUNT);
    expect(new Set(CODE_WORDS).size).toBe(CODE_WORD_COUNT);
    for (const w of CODE_WORDS) expect(w).toMatch(/^[a-z]{4,8}$/);
  });

  it('no word is a prefix of another, and no two are within one edit (a typo is caught, not another word)', () => {
    const bad: string[] = [];
    for (const a of CODE_WORDS)
      for (const b of CODE_WORDS) {
        if (a === b) continue;
        if (b.startsWith(a)) bad.push(`${a} prefix of ${b}`);
        if (a < b && editDistanceAtMostOne(a, b)) bad.push(`${a} ~ ${b}`);
      }
    expect(bad).toEqual([]);
  });

  it('the edit-distance check itself sees substitutions, insertions and deletions', () => {
    expect(editDistanceAtMostOne('lemon', 'lemin')).toBe(true);
    expect(editDistanceAtMostOne('lemon', 'lemons')).toBe(true);
    expect(editDistanceAtMostOne('lemon', 'lemn')).toBe(true);
    expect(editDistanceAtMostOne('lemon', 'melon')).toBe(false);
  });
});

describe('normalisation: the shared vectors', () => {
  for (const v of vectors.normalise) {
    it(`${JSON.stringify(v.input).slice(0, 60)} -> ${v.code ?? v.error}`, () => {
      const r = parseCode(v.input);
      if (v.code !== undefined) expect(r).toEqual({ ok: true, value: { code: v.code, nameplate: Number(v.code.split('-')[0]), roomId: v.room } });
      else expect(r.ok ? r : { ok: false, error: english(r.error) }).toEqual({ ok: false, error: v.error });
    });
  }
  for (const v of vectors.looksLike)
    it(`looks like a code: ${JSON.stringify(v.input).slice(0, 60)} ${v.code}`, () => expect(looksLikeCode(v.input)).toBe(v.code));
});

describe('the PRS of a code: the key schedule, salted by code-N; nothing for the server', () => {
  for (const v of vectors.keySchedule)
    it(`${v.code} in ${v.room}`, { timeout: 30_000 }, async () => {
      const parsed = parseCode(v.code);
      if (!parsed.ok) throw new Error(english(parsed.error));
      const r = await codeRequest(parsed.value);
      expect(r.payload).toEqual({ roomId: v.room, code: true });
      expect(bytesHex(r.prs)).toBe(v.prs);
    });
});

describe('the Receive box', () => {
  it('takes a code, normalised', () => {
    expect(parseReceiveInput('  7 Guitar_LEMON ')).toEqual({ kind: 'code', code: { code: '7-guitar-lemon', nameplate: 7, roomId: 'code-7' } });
  });

  it('takes a link as before: its room and key', () => {
    expect(parseReceiveInput(' https://peerdrop.example/#room=r-1&key=ab%20c ')).toEqual({ kind: 'link', roomId: 'r-1', password: 'ab c' });
    expect(parseReceiveInput('https://peerdrop.example/#room=7-guitar&key=x')).toEqual({ kind: 'link', roomId: '7-guitar', password: 'x' });
  });

  it('names the unknown word of a mistyped code', () => {
    expect(shown(parseReceiveInput('7-guitar-lemn'))).toEqual({ kind: 'error', error: 'not a valid code: "lemn" is not in the word list' });
  });

  it('says what a code is when the text is neither', () => {
    for (const s of ['', '7', 'guitar lemon', 'room-42'])
      expect(shown(parseReceiveInput(s))).toEqual({ kind: 'error', error: expect.stringMatching(/^not a valid code: /) as unknown as string });
  });

  it('a link without its room and key is refused, not read as a code', () => {
    expect(shown(parseReceiveInput('https://peerdrop.example/'))).toEqual({ kind: 'error', error: expect.stringContaining('copy the whole link') as unknown as string });
    expect(shown(parseReceiveInput('https://peerdrop.example/#room=r1'))).toEqual({ kind: 'error', error: expect.stringContaining('copy the whole link') as unknown as string });
  });
});
