/* Incoming offers: what a peer offered us and what we do with it. Accepting
 * (where to store: the storage choice, a folder picker on a click), declining,
 * resuming the same transfer after a reconnection without asking, and
 * continuing one an earlier page had begun (remembered.ts). Owns the incoming
 * transfers' sinks; the transfer rows themselves live in the TransferBook. */

import { IncomingTransfer } from '../protocol/session';
import type { FileEntry } from '../protocol/types';
import type { ChannelDriver } from './channel';
import { claim, forget, recall, remember, type RememberedTransfer, type VerifiedFile } from './remembered';
import { adoptSink, createSink, FsSink, reopenSink, SinkError, type SavedFile, type Sink, type StorageKind, type VerifiedBefore } from './sinks';
import { msg } from '../i18n/catalog';
import type { Transfer, TransferBook, TransferStore } from './transfers';

interface PendingOffer {
  driver: ChannelDriver;
  files: FileEntry[];
  /** The same transfer, begun by an earlier page of ours (remembered.ts). */
  remembered?: RememberedTransfer;
  /** Such a transfer whose folder was refused: continued after all if the picker gives the same one. */
  refused?: RememberedTransfer;
}

export class IncomingOffers implements TransferStore {
  private readonly pending = new Map<string, PendingOffer>();
  private readonly incoming = new Map<string, { inc: IncomingTransfer; sink: Sink }>();
  /** A second click while the first waits on a prompt does nothing. */
  private readonly accepting = new Set<string>();

  constructor(
    private readonly transfers: TransferBook,
    /** Where received files go (sinks.ts), as probed. */
    private readonly storage: () => StorageKind,
    private readonly changed: () => void,
  ) {}

  clear(): void {
    this.incoming.clear();
    this.pending.clear();
  }

  hasPending(peerId: string): boolean {
    return this.pending.has(peerId);
  }
  /** The peer left or failed: its offer cannot be accepted any more. */
  dropPending(peerId: string): void {
    this.pending.delete(peerId);
  }
  /** The sink an incoming transfer writes to (the channel's storage). */
  sink(xfer: string): Sink | null {
    return this.incoming.get(xfer)?.sink ?? null;
  }

  /* ---- TransferStore ---- */
  saved(xfer: string): SavedFile[] {
    return this.incoming.get(xfer)?.sink.saved ?? [];
  }
  ended(xfer: string, remove: boolean): void {
    this.forget(xfer, this.incoming.get(xfer)?.sink);
    if (remove) this.incoming.delete(xfer);
  }
  offerCancelled(peerId: string): void {
    this.pending.delete(peerId);
  }

  /** A peer's offer: resumed at once if it is the transfer a dropped
   *  connection interrupted, else shown to be accepted or declined. */
  async onOffer(peerId: string, d: ChannelDriver, xfer: string, files: FileEntry[], hidden: number[]): Promise<void> {
    const key = `in:${xfer}`;
    const kept = this.incoming.get(xfer);
    const t = this.transfers.get(key);
    if (!kept) {
      const r = this.storage() === 'fs' ? await recall(xfer) : null;
      if (r && new IncomingTransfer(xfer, r.files).sameManifest(files)) {
        // Begun by an earlier page (closed, reloaded, crashed): asked again,
        // since the folder needs the user's permission once more.
        this.pending.set(peerId, { driver: d, files, remembered: r });
        const nt = this.transfers.create(key, 'in', peerId, xfer, files, hidden);
        nt.earlierVerified = Object.keys(r.verified).length;
        this.transfers.set(nt);
        this.changed();
        return;
      }
    }
    if (kept && kept.inc.sameManifest(files) && t) {
      // Same transfer again after a reconnection: resume without asking.
      await d.drained();
      d.accept(kept.inc);
      // Verified files are not asked for again; the others continue where their digest proves.
      t.resumedFrom = kept.inc.manifest.reduce((s, _f, i) => s + (kept.inc.isFinished(i) ? kept.inc.held(i) : kept.inc.resumedAt(i)), 0);
      t.state = 'TRANSFERRING';
      t.error = undefined;
      this.changed();
      return;
    }
    this.pending.set(peerId, { driver: d, files });
    this.transfers.set(this.transfers.create(key, 'in', peerId, xfer, files, hidden));
    this.changed();
  }

  /** Must be called from a click handler: it may open a folder picker. */
  async accept(key: string): Promise<void> {
    const t = this.transfers.get(key);
    const p = t && this.pending.get(t.peerId);
    if (!t || !p || t.state !== 'OFFERED' || this.accepting.has(key)) return;
    this.accepting.add(key);
    try {
      await this.acceptOffer(t, p);
    } finally {
      this.accepting.delete(key);
    }
  }

  private async acceptOffer(t: Transfer, p: PendingOffer): Promise<void> {
    let sink: Sink;
    let verifiedBefore: VerifiedBefore = new Map();
    try {
      // A transfer an earlier page of ours had begun: the same folder again, without the files it verified.
      const reopened = p.remembered && this.storage() === 'fs' ? await reopenSink(p.remembered) : null;
      if (p.remembered && !reopened) {
        // no access to that folder (or file) as it was: a plain offer again (a picker needs a fresh click)
        p.refused = p.remembered;
        p.remembered = undefined;
        t.earlierVerified = undefined;
        t.error = msg('xfer.earlierGone');
        this.changed();
        return;
      }
      if (reopened) verifiedBefore = reopened.verifiedBefore;
      sink = reopened?.sink ?? (await createSink(this.storage(), p.files));
      const adopted = !reopened && p.refused && sink instanceof FsSink ? await adoptSink(p.refused, sink) : null;
      if (adopted) {
        sink = adopted.sink;
        verifiedBefore = adopted.verifiedBefore;
        p.remembered = p.refused;
        t.earlierVerified = verifiedBefore.size;
      }
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return; // picker dismissed: still offered
      this.pending.delete(t.peerId);
      t.state = 'ERROR';
      t.error = e instanceof SinkError ? e.why : e instanceof Error && e.message ? msg('xfer.noPlaceWhy', { detail: e.message }) : msg('xfer.noPlace');
      try {
        p.driver.decline();
      } catch { /* offer gone */ }
      this.changed();
      return;
    }
    this.pending.delete(t.peerId);
    const inc = new IncomingTransfer(t.xfer, p.files);
    let resumedFrom = 0;
    for (const [id, v] of verifiedBefore) {
      inc.markHeld(id, rememberedProof(v)); // id: a file of the remembered manifest, which is this offer's
      resumedFrom += inc.held(id);
      const row = t.files[id]; // the view has a row per offered file
      if (row) {
        row.state = 'done';
        row.bytes = inc.held(id);
      }
    }
    if (verifiedBefore.size > 0) {
      t.bytes = t.resumedFrom = resumedFrom;
      t.saved = [...sink.saved];
    }
    if (sink instanceof FsSink) this.rememberInto(sink, inc, p.files, verifiedBefore);
    t.where = sink.where;
    t.error = undefined;
    this.incoming.set(t.xfer, { inc, sink });
    t.state = 'TRANSFERRING';
    try {
      if (!p.driver.accept(inc)) {
        // every file is here already and none could be proven to the sender (a record of an older page)
        t.state = 'COMPLETED';
        this.incoming.delete(t.xfer);
        this.forget(t.xfer, sink);
      }
    } catch {
      t.state = 'ERROR';
      t.error = msg('xfer.withdrawn');
      this.incoming.delete(t.xfer);
      this.forget(t.xfer, sink);
    }
    this.changed();
  }

  /* Keeps what a later page needs to continue this transfer (remembered.ts). */
  private rememberInto(sink: FsSink, inc: IncomingTransfer, files: FileEntry[], verifiedBefore: VerifiedBefore): void {
    const xfer = inc.xfer;
    // names: those reopenSink found still ours; verified: only files still as they were
    const r: RememberedTransfer = { xfer, files, root: sink.root, single: sink.single, names: { ...sink.names }, verified: Object.fromEntries(verifiedBefore), at: 0 };
    sink.hooks = {
      named: (file, name) => {
        // written from now on: whatever was verified of it before is not what it will hold
        delete r.verified[file];
        r.names[file] = name;
        remember(r);
      },
      verified: (file, v) => {
        // with its digest, a later page can prove the file to the sender instead of leaving it out
        r.verified[file] = { ...v, ...inc.proofOf(file) };
        remember(r);
      },
    };
    remember(r);
    claim(xfer);
  }

  /* The transfer is over (done, declined, cancelled, withdrawn): a later page
   * has nothing to continue. The sink stops reporting first, so that a
   * storage step still queued cannot remember it again. */
  private forget(xfer: string, sink?: Sink): void {
    if (sink instanceof FsSink) sink.hooks = null;
    forget(xfer);
  }

  decline(key: string): void {
    const t = this.transfers.get(key);
    const p = t && this.pending.get(t.peerId);
    if (!t || !p) return;
    this.pending.delete(t.peerId);
    try {
      p.driver.decline();
    } catch { /* gone */ }
    t.state = 'DECLINED';
    if (p.remembered || p.refused) this.forget(t.xfer);
    this.changed();
  }

  /** We cancelled an incoming transfer: not resumed by a later offer, nor
   *  continued by a later page. `connected`: a channel runs the session's
   *  clean-up; without one, the partial files are deleted here. */
  cancelled(xfer: string, connected: boolean): void {
    const kept = this.incoming.get(xfer);
    this.incoming.delete(xfer);
    this.forget(xfer, kept?.sink);
    if (!connected && kept) kept.inc.manifest.forEach((_f, i) => !kept.inc.isFinished(i) && void kept.sink.close(i, false).catch(() => {}));
  }
}

/* The digest a remembered verified file was verified with, if its record has one (older ones do not). */
function rememberedProof(v: VerifiedFile): { sha256: string; blocks: boolean } | undefined {
  return typeof v.sha256 === 'string' && typeof v.blocks === 'boolean' ? { sha256: v.sha256, blocks: v.blocks } : undefined;
}
