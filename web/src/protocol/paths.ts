/* Path rules for manifest names and directories (docs/protocol.md §7).
 * A receiver refuses a manifest that breaks any of them, before anything is
 * written, so a peer can never make us write outside the chosen folder. */

import { MAX_DIR_BYTES, MAX_DIR_DEPTH, MAX_NAME_BYTES, type FileEntry } from './types';

const utf8 = new TextEncoder();

/* Windows opens these as devices whatever the extension ("CON.txt" too). */
const DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/* Rule 8: characters that make a name display as something else. Bidi
 * overrides and isolates reorder what follows ("invoice\u202Efdp.exe" shows
 * as "invoiceexe.pdf", CVE-2021-42574 "Trojan Source"), zero-width and
 * format characters hide inside a name, line and paragraph separators break
 * it over lines. The same set as paths.c's invisible(). */
const INVISIBLE = /[\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;

/** Returns null when `c` is a safe single path component, else the reason. */
export function componentProblem(c: string): string | null {
  if (c.length === 0) return 'empty';
  if (utf8.encode(c).length > MAX_NAME_BYTES) return 'longer than 255 bytes';
  if (c === '.' || c === '..') return 'dot component';
  for (let i = 0; i < c.length; i++) {
    const u = c.charCodeAt(i);
    if (u < 0x20 || (u >= 0x7f && u <= 0x9f)) return 'control character';
    if (INVISIBLE.test(c.charAt(i))) return 'invisible or bidi control character';
    if (u === 0x2f || u === 0x5c) return 'path separator';
    if (u === 0x3a) return 'colon (drive letter or NTFS stream)';
    if (u >= 0xd800 && u <= 0xdbff) {
      const n = c.charCodeAt(i + 1);
      if (!(n >= 0xdc00 && n <= 0xdfff)) return 'lone surrogate';
      i++;
    } else if (u >= 0xdc00 && u <= 0xdfff) return 'lone surrogate';
  }
  const last = c.at(-1);
  if (last === '.' || last === ' ') return 'trailing dot or space';
  const base = (c.split('.')[0] ?? '').trimEnd(); // split always gives one part
  if (DEVICE.test(base)) return 'device name';
  return null;
}

export function nameProblem(name: string): string | null {
  return componentProblem(name);
}

export function dirProblem(dir: string): string | null {
  if (dir === '') return null;
  if (utf8.encode(dir).length > MAX_DIR_BYTES) return 'dir longer than 4096 bytes';
  const parts = dir.split('/');
  if (parts.length > MAX_DIR_DEPTH) return 'dir deeper than 64';
  for (const p of parts) {
    const r = componentProblem(p);
    if (r) return r;
  }
  return null;
}

/** Receiver policy, not a §7 rule: a component of `path` (a name, or a dir of '/'-joined
 *  components) starts with '.', hidden on Unix and often read by programs without the user
 *  looking (~/.config/autostart, ~/.ssh, .git/hooks, .bashrc). Left out unless asked for. */
export function isHidden(path: string): boolean {
  return path.startsWith('.') || path.includes('/.');
}

/** Its dir or its name is hidden (isHidden). */
export function entryHidden(f: Pick<FileEntry, 'dir' | 'name'>): boolean {
  return isHidden(f.dir) || isHidden(f.name);
}

/** Full relative path of an entry, '/'-separated. */
export function entryPath(f: Pick<FileEntry, 'dir' | 'name'>): string {
  return f.dir === '' ? f.name : `${f.dir}/${f.name}`;
}

/** Returns null when every entry is safe and no two collide, else the reason. */
export function manifestProblem(files: FileEntry[]): string | null {
  const paths = new Set<string>();
  const dirs = new Set<string>();
  for (const f of files) {
    const r = nameProblem(f.name) ?? dirProblem(f.dir);
    if (r) return `file ${f.id}: ${r}`;
    const p = entryPath(f);
    if (paths.has(p)) return `file ${f.id}: duplicate path`;
    paths.add(p);
    if (f.dir !== '') {
      const parts = f.dir.split('/');
      for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
  }
  for (const p of paths) if (dirs.has(p)) return 'a file and a directory share a path';
  return null;
}
