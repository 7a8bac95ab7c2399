/* The page's language: which locale (navigator.languages, or the user's
 * choice, remembered), its messages (catalogue templates, plural forms by
 * Intl.PluralRules) and its numbers (Intl.NumberFormat: digits, separators,
 * units). React reads it through useI18n(); a switch re-renders the page. */

import { createElement, Fragment, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { isMsg, type Catalogue, type Entry, type MessageKey, type Msg, type Params, type Percent, type Size } from './catalog';
import en from './locales/en';
import de from './locales/de';
import fr from './locales/fr';
import es from './locales/es';
import ptBR from './locales/pt-BR';
import zhCN from './locales/zh-CN';

export { msg, isMsg, size, pct, type Msg, type MessageKey, type Params, type Percent, type Size } from './catalog';

export const LOCALES = ['en', 'de', 'fr', 'es', 'pt-BR', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

export const CATALOGUES: Record<Locale, Catalogue> = { en, de, fr, es, 'pt-BR': ptBR, 'zh-CN': zhCN };

/** Each language by its own name (what a reader of it looks for in the switch). */
export const LOCALE_NAMES: Record<Locale, string> = {
  en: 'English',
  de: 'Deutsch',
  fr: 'Français',
  es: 'Español',
  'pt-BR': 'Português (Brasil)',
  'zh-CN': '简体中文',
};

/* Traditional-script Chinese: simplified is a fallback only after every
 * other language the reader listed (they read it, but it is not theirs). */
const TRADITIONAL = /^zh-(hant|tw|hk|mo)\b/;

/** The best of our locales for a browser's list of languages (BCP 47 tags,
 *  most preferred first): an exact match, else the same language (`de-AT` →
 *  de, `pt` → pt-BR, `zh`/`zh-Hans` → zh-CN); English when none is ours. */
export function pickLocale(languages: readonly string[]): Locale {
  const tags = languages.filter((l) => typeof l === 'string').map((l) => l.toLowerCase().replace(/_/g, '-'));
  for (const tag of tags) {
    const exact = LOCALES.find((l) => l.toLowerCase() === tag);
    if (exact) return exact;
    if (TRADITIONAL.test(tag)) continue;
    const base = tag.split('-')[0];
    const same = LOCALES.find((l) => l.toLowerCase().split('-')[0] === base);
    if (same) return same;
  }
  return tags.some((t) => t.split('-')[0] === 'zh') ? 'zh-CN' : 'en';
}

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v);
}

/* ---- formatting ---- */

const pluralRules = new Map<string, Intl.PluralRules>();
function plural(locale: Locale, n: number): Intl.LDMLPluralRule {
  let r = pluralRules.get(locale);
  if (!r) pluralRules.set(locale, (r = new Intl.PluralRules(locale)));
  return r.select(n);
}

function pick(locale: Locale, entry: Entry, count: unknown): string {
  if (typeof entry === 'string') return entry;
  const n = typeof count === 'number' ? count : Number(count);
  return entry[plural(locale, Number.isFinite(n) ? n : 0)] ?? entry.other;
}

/** The template of `key` in `locale` (English if the catalogue lacks it,
 *  the key itself if English does too: visible, never a crash). */
function template(locale: Locale, key: MessageKey, params?: Params): string {
  const entry = CATALOGUES[locale][key] ?? CATALOGUES.en[key];
  return entry === undefined ? key : pick(locale, entry, params?.count);
}

export const PLACEHOLDER = /\{(\w+)\}/g;

type Param = Params[string];
const isSize = (v: unknown): v is Size => typeof v === 'object' && v !== null && typeof (v as Size).bytes === 'number';
const isPercent = (v: unknown): v is Percent => typeof v === 'object' && v !== null && typeof (v as Percent).fraction === 'number';

function value(locale: Locale, v: Param | undefined, name: string): string {
  if (v === undefined) return `{${name}}`;
  if (typeof v === 'number') return formatNumber(locale, v);
  if (isMsg(v)) return translate(locale, v.key, v.params);
  if (isSize(v)) return formatBytes(locale, v.bytes);
  if (isPercent(v)) return formatPercent(locale, v.fraction);
  return v;
}

/** The text of a message: its template with each `{name}` replaced (numbers
 *  in the locale's digits, nested messages translated). Plain text for
 *  React to render; nothing in it is markup. */
export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  return template(locale, key, params).replace(PLACEHOLDER, (_m, name: string) => value(locale, params?.[name], name));
}

/** As translate, but a parameter may be a React node (a <code>, a link):
 *  the result is a list of text and those nodes. */
export function translateRich(locale: Locale, key: MessageKey, params: Record<string, Param | ReactNode>): ReactNode {
  const parts = template(locale, key, params as Params).split(PLACEHOLDER);
  // split with one capture group: even indexes are text, odd ones placeholder names
  return createElement(
    Fragment,
    null,
    ...parts.map((p, i) => {
      if (i % 2 === 0) return p;
      const v = params[p];
      const plain = typeof v === 'string' || typeof v === 'number' || isMsg(v) || isSize(v) || isPercent(v) || v === undefined;
      return createElement(Fragment, { key: i }, plain ? value(locale, v as Param | undefined, p) : (v as ReactNode));
    }),
  );
}

const numberFormats = new Map<string, Intl.NumberFormat>();
function nf(locale: Locale, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const id = `${locale}|${JSON.stringify(opts)}`;
  let f = numberFormats.get(id);
  if (!f) numberFormats.set(id, (f = new Intl.NumberFormat(locale, opts)));
  return f;
}

export function formatNumber(locale: Locale, n: number): string {
  return nf(locale, { maximumFractionDigits: 2 }).format(n);
}

const SIZE_UNITS = ['kilobyte', 'megabyte', 'gigabyte', 'terabyte', 'petabyte'] as const;

/* Decimal (SI) steps, as the CLI's summary and the OS file managers show
 * sizes; three significant digits at most ("1.23 MB", "12.3 MB", "123 MB"). */
function scaled(locale: Locale, n: number, perSecond: boolean): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  if (n < 1000) return translate(locale, perSecond ? 'unit.bytesPerSecond' : 'unit.bytes', { n: Math.round(n) });
  let i = -1;
  while (n >= 1000 && i < SIZE_UNITS.length - 1) {
    n /= 1000;
    i++;
  }
  const digits = n < 10 ? 2 : n < 100 ? 1 : 0;
  const unit = perSecond ? `${SIZE_UNITS[i]}-per-second` : SIZE_UNITS[i];
  return nf(locale, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: digits }).format(n);
}

export function formatBytes(locale: Locale, n: number): string {
  return scaled(locale, n, false);
}
export function formatSpeed(locale: Locale, bytesPerSecond: number): string {
  return scaled(locale, bytesPerSecond, true);
}

function unit(locale: Locale, u: 'second' | 'minute' | 'hour', n: number): string {
  return nf(locale, { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: 0 }).format(n);
}

/** A time left: "45 s", "3 min 5 s", "2 h 10 min", in the locale's words. */
export function formatDuration(locale: Locale, s: number): string {
  if (!Number.isFinite(s) || s < 0) return '–';
  if (s < 60) return unit(locale, 'second', Math.ceil(s));
  const pair = (a: string, b: string) => translate(locale, 'unit.pair', { a, b });
  if (s < 3600) return pair(unit(locale, 'minute', Math.floor(s / 60)), unit(locale, 'second', Math.round(s % 60)));
  return pair(unit(locale, 'hour', Math.floor(s / 3600)), unit(locale, 'minute', Math.round((s % 3600) / 60)));
}

/** A fraction 0..1 as a whole percentage ("43 %" in German, "43%" in English). */
export function formatPercent(locale: Locale, fraction: number): string {
  return nf(locale, { style: 'percent', maximumFractionDigits: 0 }).format(Number.isFinite(fraction) ? fraction : 0);
}

/* ---- the page's locale ---- */

const STORE_KEY = 'peerdrop.lang';

function stored(): Locale | null {
  try {
    const v = globalThis.localStorage?.getItem(STORE_KEY);
    return isLocale(v) ? v : null;
  } catch {
    return null; // storage blocked
  }
}

function browserLanguages(): readonly string[] {
  const n = globalThis.navigator;
  return n?.languages?.length ? n.languages : n?.language ? [n.language] : [];
}

let current: Locale = stored() ?? pickLocale(browserLanguages());
const listeners = new Set<() => void>();

function applyToDocument(l: Locale): void {
  if (typeof document !== 'undefined') document.documentElement.lang = l;
}
applyToDocument(current);

export function getLocale(): Locale {
  return current;
}

/** The user's choice: shown at once, remembered in this browser. */
export function setLocale(l: Locale): void {
  if (!isLocale(l) || l === current) return;
  current = l;
  try {
    globalThis.localStorage?.setItem(STORE_KEY, l);
  } catch {
    /* not remembered */
  }
  applyToDocument(l);
  listeners.forEach((fn) => fn());
}

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export interface I18n {
  locale: Locale;
  /** A key (with parameters) or a message from the controller, as text. */
  t(key: MessageKey | Msg, params?: Params): string;
  /** A template whose parameters may be React nodes. */
  rich(key: MessageKey, params: Record<string, Params[string] | ReactNode>): ReactNode;
  bytes(n: number): string;
  speed(bytesPerSecond: number): string;
  duration(s: number): string;
  percent(fraction: number): string;
  number(n: number): string;
}

export function makeI18n(locale: Locale): I18n {
  return {
    locale,
    t: (key, params) => (isMsg(key) ? translate(locale, key.key, key.params) : translate(locale, key, params)),
    rich: (key, params) => translateRich(locale, key, params),
    bytes: (n) => formatBytes(locale, n),
    speed: (n) => formatSpeed(locale, n),
    duration: (s) => formatDuration(locale, s),
    percent: (f) => formatPercent(locale, f),
    number: (n) => formatNumber(locale, n),
  };
}

export function useI18n(): I18n {
  const locale = useSyncExternalStore(subscribe, getLocale, getLocale);
  return useMemo(() => makeI18n(locale), [locale]);
}
