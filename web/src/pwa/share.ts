/* What the share target left for the page (issue 17).
 *
 * A phone's share sheet POSTs files (and a title, text or URL) to
 * ./share-target (manifest.webmanifest); the service worker (public/sw.js)
 * keeps them in the peerdrop-share cache and sends the browser to
 * ./?share-target=1. Here the page takes them, once: the cache is emptied
 * and the marker removed from the address bar. Nothing is sent without the
 * user: any site can POST to the share target, so the shared files are only
 * listed until the user creates or joins a room (docs/security.md).
 *
 * For the home page: takeSharedFiles() is the entry point (a drop zone can
 * treat its result as dropped files); takeShared() also gives the text. */

export const SHARE_PARAM = 'share-target';
const SHARE_CACHE = 'peerdrop-share';

export interface Shared {
  files: File[];
  /** title, text and url as shared, joined by line breaks ('' if none) */
  text: string;
  /** true when the page was sent here by a share whose files did not
   *  arrive: the service worker was not running (the server's 303), or it
   *  could not keep them */
  lost: boolean;
}

let taken: Promise<Shared | null> | null = null;

/** The share that opened this page, or null; the same answer to every call
 *  (React's StrictMode runs effects twice). */
export function takeShared(): Promise<Shared | null> {
  taken ??= readShare().catch(() => ({ files: [], text: '', lost: true }));
  return taken;
}

/** The shared files, [] if none. */
export async function takeSharedFiles(): Promise<File[]> {
  return (await takeShared())?.files ?? [];
}

async function readShare(): Promise<Shared | null> {
  const url = new URL(window.location.href);
  const mark = url.searchParams.get(SHARE_PARAM);
  if (mark === null) return null;
  url.searchParams.delete(SHARE_PARAM);
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  if (mark !== '1' || typeof caches === 'undefined') return { files: [], text: '', lost: true };
  const base = new URL('./', window.location.href);
  const cache = await caches.open(SHARE_CACHE);
  try {
    const metaRes = await cache.match(new URL('shared/meta', base).href);
    if (!metaRes) return { files: [], text: '', lost: true };
    const meta: unknown = await metaRes.json();
    const m = (meta ?? {}) as Record<string, unknown>;
    const count = typeof m.files === 'number' && Number.isSafeInteger(m.files) ? Math.min(Math.max(m.files, 0), 1000) : 0;
    const files: File[] = [];
    for (let i = 0; i < count; i++) {
      const r = await cache.match(new URL(`shared/${i}`, base).href);
      if (!r) continue;
      const blob = await r.blob();
      files.push(new File([blob], decodeName(r.headers.get('X-Name'), i), { type: blob.type }));
    }
    const text = ['title', 'text', 'url']
      .map((k) => (typeof m[k] === 'string' ? (m[k] as string).trim() : ''))
      .filter((v, i, all) => v !== '' && all.indexOf(v) === i)
      .join('\n');
    return { files, text, lost: false };
  } finally {
    await caches.delete(SHARE_CACHE);
  }
}

function decodeName(raw: string | null, i: number): string {
  try {
    const n = raw ? decodeURIComponent(raw) : '';
    return n || `shared-${i + 1}`;
  } catch {
    return `shared-${i + 1}`;
  }
}
