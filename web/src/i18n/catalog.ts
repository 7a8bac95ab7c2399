/* The message catalogue's types: a message is a key and its parameters,
 * rendered by the page's locale when shown (never when made), so that the
 * controller's errors and notices follow a language switch. No HTML ever:
 * React renders the result as text, so nothing here escapes anything. */

import type en from './locales/en';

export type MessageKey = keyof typeof en;

/** The CLDR plural categories a locale's Intl.PluralRules may select;
 *  `other` is always there (the fallback of every locale). */
export type PluralForms = { zero?: string; one?: string; two?: string; few?: string; many?: string; other: string };

/** A catalogue entry: a template with `{name}` placeholders, or plural forms
 *  chosen by the number in the `count` parameter. */
export type Entry = string | PluralForms;

export type Catalogue = Record<MessageKey, Entry>;

export interface Msg {
  key: MessageKey;
  params?: Params;
}
/** A size in bytes, shown in the locale's digits and units ("1,5 Mo"). */
export interface Size {
  bytes: number;
}
/** A fraction 0..1, shown as the locale writes a percentage ("43 %", "43%"). */
export interface Percent {
  fraction: number;
}
/** Numbers, sizes and percentages are formatted per locale; a Msg is translated in place. */
export type Params = Record<string, string | number | Size | Percent | Msg>;

export function size(bytes: number): Size {
  return { bytes };
}

export function pct(fraction: number): Percent {
  return { fraction };
}

export function msg(key: MessageKey, params?: Params): Msg {
  return params ? { key, params } : { key };
}

export function isMsg(v: unknown): v is Msg {
  return typeof v === 'object' && v !== null && typeof (v as Msg).key === 'string';
}
