/* The catalogues (issue 17, "every language"): every locale has exactly the
 * keys of English, each plural message the forms its locale's
 * Intl.PluralRules selects (no fewer, none it never selects), the same
 * placeholders as English; every key is used by the source; the locale is
 * picked from navigator.languages; numbers, sizes, times and percentages
 * come out in the locale's digits and separators. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUES, LOCALES, PLACEHOLDER, formatBytes, formatDuration, formatPercent, formatSpeed, pickLocale, translate, type Locale } from '.';
import { msg, size, type Entry, type MessageKey } from './catalog';
import { must } from '../testing/must';

const en = CATALOGUES.en;
const keys = Object.keys(en) as MessageKey[];
const others = LOCALES.filter((l) => l !== 'en');

function placeholders(s: string): Set<string> {
  return new Set([...s.matchAll(PLACEHOLDER)].map((m) => must(m[1], `the name in ${m[0]}`)));
}
function forms(e: Entry): [string, string][] {
  return typeof e === 'string' ? [['', e]] : Object.entries(e).filter((x): x is [string, string] => typeof x[1] === 'string');
}
const sorted = (s: Set<string>) => [...s].sort();

describe('every locale has exactly the keys of en', () => {
  for (const l of others)
    it(l, () => {
      const have = Object.keys(CATALOGUES[l]);
      expect(keys.filter((k) => !have.includes(k)), `${l} lacks`).toEqual([]);
      expect(have.filter((k) => !(k in en)), `${l} has keys en does not`).toEqual([]);
    });
});

describe('plural messages have the forms Intl.PluralRules selects in their locale', () => {
  for (const l of LOCALES)
    it(l, () => {
      const needed = new Intl.PluralRules(l).resolvedOptions().pluralCategories as string[];
      const problems: string[] = [];
      for (const k of keys) {
        const e = CATALOGUES[l][k];
        if (e === undefined) continue; // reported above
        if (typeof en[k] !== typeof e) problems.push(`${k}: ${typeof e === 'string' ? 'a string where en has plural forms' : 'plural forms where en has a string'}`);
        if (typeof e === 'string') continue;
        for (const c of needed) if (typeof (e as Record<string, unknown>)[c] !== 'string') problems.push(`${k}: no "${c}" form`);
        for (const c of Object.keys(e)) if (!needed.includes(c)) problems.push(`${k}: a "${c}" form ${l} never selects`);
      }
      expect(problems).toEqual([]);
    });
});

describe('placeholders match across locales', () => {
  for (const l of LOCALES)
    it(l, () => {
      const problems: string[] = [];
      for (const k of keys) {
        const e = CATALOGUES[l][k];
        if (e === undefined) continue;
        const want = new Set(forms(en[k]).flatMap(([, s]) => [...placeholders(s)]));
        for (const [form, s] of forms(e)) {
          const got = placeholders(s);
          // a singular form may say "one file" in words instead of {count}
          const expected = new Set([...want].filter((p) => p !== 'count' || form === 'other' || form === '' || got.has('count')));
          if (sorted(got).join() !== sorted(expected).join()) problems.push(`${k}${form ? `.${form}` : ''}: {${sorted(got).join('}, {')}} instead of {${sorted(expected).join('}, {')}}`);
        }
      }
      expect(problems).toEqual([]);
    });
});

describe('no message is left as English in another locale', () => {
  /* The same text in both is fine for a few: units, templates of
   * placeholders, words that are the same (Transfers / transferts differ,
   * "Error" is Spanish too). */
  const SAME_OK = /^(unit\.|list\.|xfer\.speed|xfer\.withDetail|file\.progress$|status\.error|xfer\.state\.error|peer\.label|peer\.named|home\.options|text\.title)/;
  for (const l of others)
    it(l, () => {
      const same = keys.filter((k) => !SAME_OK.test(k) && JSON.stringify(CATALOGUES[l][k]) === JSON.stringify(en[k]));
      expect(same).toEqual([]);
    });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'locales' ? [] : sourceFiles(p);
    return /\.tsx?$/.test(n) && !/\.test\.tsx?$/.test(n) ? [p] : [];
  });
}

it('every key is used somewhere in the source (no dead entries)', () => {
  const src = sourceFiles(join(__dirname, '..')).map((p) => readFileSync(p, 'utf8')).join('\n');
  expect(keys.filter((k) => !src.includes(`'${k}'`))).toEqual([]);
});

describe('pickLocale: the best of ours for navigator.languages', () => {
  const cases: [string[], Locale][] = [
    [['de-DE', 'en'], 'de'],
    [['de-AT'], 'de'],
    [['fr-CA', 'en-US'], 'fr'],
    [['es-419'], 'es'],
    [['pt'], 'pt-BR'],
    [['pt-PT'], 'pt-BR'],
    [['pt-br'], 'pt-BR'],
    [['zh'], 'zh-CN'],
    [['zh-Hans'], 'zh-CN'],
    [['zh-Hans-CN'], 'zh-CN'],
    [['zh-TW', 'fr'], 'fr'],
    [['zh-TW'], 'zh-CN'],
    [['ja', 'es'], 'es'],
    [['ja', 'ko'], 'en'],
    [['en-GB', 'de'], 'en'],
    [[], 'en'],
  ];
  for (const [langs, want] of cases) it(`${JSON.stringify(langs)} -> ${want}`, () => expect(pickLocale(langs)).toBe(want));
});

describe('messages', () => {
  it('choose the plural form by the locale’s rules', () => {
    expect(translate('en', 'xfer.failedFiles', { count: 1 })).toBe('1 file failed.');
    expect(translate('en', 'xfer.failedFiles', { count: 0 })).toBe('0 files failed.');
    expect(translate('fr', 'xfer.failedFiles', { count: 0 })).toBe('0 fichier a échoué.');
    expect(translate('fr', 'xfer.failedFiles', { count: 1_000_000 })).toBe('1\u202f000\u202f000 de fichiers ont échoué.');
    expect(translate('de', 'xfer.failedFiles', { count: 1234 })).toBe('1.234 Dateien fehlgeschlagen.');
  });
  it('translate nested messages and sizes, and show a missing parameter as its name', () => {
    const m = msg('xfer.withDetail', { what: msg('file.error.WRITE_ERROR'), detail: 'disk full' });
    expect(translate('de', m.key, m.params)).toBe('Die Datei konnte nicht gespeichert werden. (disk full)');
    expect(translate('fr', 'store.memory', { max: size(256 * 1024 * 1024) })).toContain('au plus 268\u202fMo par transfert');
    expect(translate('en', 'peer.sas', {})).toBe('Verification code {code}');
  });
  it('never interpret markup: a parameter is text', () => {
    expect(translate('en', 'xfer.save', { name: '<img src=x onerror=alert(1)>' })).toBe('Save <img src=x onerror=alert(1)>');
  });
});

describe('numbers per locale', () => {
  it('sizes use the locale’s decimal separator and units', () => {
    expect(formatBytes('en', 1_500_000)).toBe('1.5 MB');
    expect(formatBytes('de', 1_500_000)).toBe('1,5 MB');
    expect(formatBytes('fr', 1_500_000)).toBe('1,5\u202fMo');
    expect(formatBytes('pt-BR', 2_250_000_000)).toBe('2,25 GB');
    expect(formatBytes('es', 12_345_678)).toBe('12,3 MB');
    expect(formatBytes('zh-CN', 999)).toBe('999 B');
    expect(formatBytes('fr', 999)).toBe('999 o');
    expect(formatBytes('en', Infinity)).toBe('–');
  });
  it('speeds, times left and percentages', () => {
    expect(formatSpeed('de', 12_300_000)).toBe('12,3 MB/s');
    expect(formatSpeed('zh-CN', 12_300_000)).toBe('12.3 MB/秒');
    expect(formatDuration('en', 42.2)).toBe('43 sec');
    expect(formatDuration('de', 185)).toBe('3 Min. 5 Sek.');
    expect(formatDuration('zh-CN', 7800)).toBe('2小时10分钟');
    expect(formatPercent('de', 0.43)).toBe('43\u00a0%');
    expect(formatPercent('en', 0.43)).toBe('43%');
  });
});
