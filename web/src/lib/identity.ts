/* Who this browser is for the people it sends to: a friendly name (an
 * adjective and an animal, editable, remembered in this browser) and its
 * kind from the user agent ("Firefox on Android"). Both go to peers in the
 * hello, over the authenticated data channel, never to the server
 * (docs/protocol.md §5.1). */

import { MAX_PEER_TEXT } from '../protocol/types';
import { peerText } from '../protocol/codec';

const NAME_KEY = 'peerdrop.name';

/* Short, plain words a person says aloud to tell two devices apart:
 * 24 × 24 = 576 names, few enough to read, enough that two phones in a room
 * rarely share one. */
const ADJECTIVES = ['Blue', 'Red', 'Green', 'Golden', 'Silver', 'Purple', 'Orange', 'Pink', 'Brave', 'Calm', 'Quick', 'Quiet', 'Happy', 'Clever', 'Gentle', 'Lucky', 'Sunny', 'Swift', 'Bold', 'Kind', 'Bright', 'Wild', 'Merry', 'Noble'];
const ANIMALS = ['Fox', 'Owl', 'Otter', 'Panda', 'Tiger', 'Koala', 'Whale', 'Falcon', 'Badger', 'Heron', 'Lynx', 'Seal', 'Wolf', 'Bear', 'Hare', 'Robin', 'Dolphin', 'Turtle', 'Penguin', 'Raven', 'Beaver', 'Moose', 'Gecko', 'Crane'];

/** A new random friendly name, e.g. "Blue Fox". */
export function randomName(rand: (n: number) => number = randomBelow): string {
  return `${ADJECTIVES[rand(ADJECTIVES.length)]} ${ANIMALS[rand(ANIMALS.length)]}`;
}

function randomBelow(n: number): number {
  const [r] = crypto.getRandomValues(new Uint32Array(1));
  return r! % n; // r: the array has one element; bias < n / 2^32: irrelevant for a name
}

/** A name as typed made fit for the hello: cleaned like a received one, at most 64 bytes. */
export function cleanName(typed: string): string {
  return peerText(typed);
}

/** This browser's name: the remembered one, else a new one (remembered from now on). */
export function loadName(): string {
  try {
    const kept = cleanName(globalThis.localStorage?.getItem(NAME_KEY) ?? '');
    if (kept) return kept;
    const made = randomName();
    globalThis.localStorage?.setItem(NAME_KEY, made);
    return made;
  } catch {
    return randomName(); // storage blocked: a name for this page only
  }
}

/** Keeps a name the user chose; returns it cleaned ('' keeps the old one). */
export function saveName(typed: string): string {
  const name = cleanName(typed);
  if (!name) return '';
  try {
    globalThis.localStorage?.setItem(NAME_KEY, name);
  } catch {
    /* not remembered */
  }
  return name;
}

/** "Firefox on Android", "Safari on iPhone", "Chrome on Linux": the browser
 *  and the system, from the user agent; "Browser" parts when unknown. Order
 *  matters: Edge, Opera and Samsung Internet also say "Chrome", Chrome on
 *  iOS says "Safari", every Android says "Linux". */
export function deviceKind(ua: string): string {
  const browser =
    /\bEdg(e|A|iOS)?\//.test(ua) ? 'Edge'
    : /\b(OPR|Opera)\//.test(ua) ? 'Opera'
    : /\bSamsungBrowser\//.test(ua) ? 'Samsung Internet'
    : /\b(Firefox|FxiOS)\//.test(ua) ? 'Firefox'
    : /(Chrome|CriOS|Chromium)\//.test(ua) ? 'Chrome' // HeadlessChrome too
    : /\bVersion\/[\d.]+.*\bSafari\//.test(ua) ? 'Safari'
    : 'Browser';
  const system =
    /\bAndroid\b/.test(ua) ? 'Android'
    : /\biPhone\b/.test(ua) ? 'iPhone'
    : /\biPad\b/.test(ua) ? 'iPad'
    : /\bCrOS\b/.test(ua) ? 'ChromeOS'
    : /\bWindows\b/.test(ua) ? 'Windows'
    : /\bMac OS X\b|\bMacintosh\b/.test(ua) ? 'macOS'
    : /\bLinux\b/.test(ua) ? 'Linux'
    : '';
  const kind = system ? `${browser} on ${system}` : browser;
  return kind.length <= MAX_PEER_TEXT ? kind : browser;
}
