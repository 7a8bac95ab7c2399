/* Turning pickers and drops into (file, relative dir) pairs, folders included. */

import type { PickedFile } from './room';

export function fromInput(list: FileList | null): PickedFile[] {
  if (!list) return [];
  return Array.from(list, (file) => {
    const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath ?? '';
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    return { file, dir };
  });
}

export async function fromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(dt.items)) {
    const e = item.kind === 'file' ? item.webkitGetAsEntry?.() : null;
    if (e) entries.push(e);
  }
  if (entries.length === 0) return fromInput(dt.files);
  const out: PickedFile[] = [];
  for (const e of entries) await walk(e, '', out);
  return out;
}

async function walk(e: FileSystemEntry, dir: string, out: PickedFile[]): Promise<void> {
  if (e.isFile) {
    const file = await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej));
    out.push({ file, dir });
    return;
  }
  if (!e.isDirectory) return;
  const reader = (e as FileSystemDirectoryEntry).createReader();
  const sub = dir ? `${dir}/${e.name}` : e.name;
  for (;;) {
    // readEntries returns at most ~100 entries per call
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) break;
    for (const c of batch) await walk(c, sub, out);
  }
}

/** Files pasted from the clipboard (a copied file or a screenshot); none for text. */
export function fromClipboard(dt: DataTransfer | null): PickedFile[] {
  return dt ? fromInput(dt.files) : [];
}
