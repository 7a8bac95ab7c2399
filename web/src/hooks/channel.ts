/* Drives one protocol Session over one RTCDataChannel: sends what the
 * session outputs, feeds it what arrives, performs the reads and writes it
 * asks for, and applies the bufferedAmount watermarks (docs/protocol.md §6). */

import { IncomingTransfer, Session, type ReadRequest, type SessionEvent } from '../protocol/session';
import type { FileEntry } from '../protocol/types';
import type { Sink } from './sinks';

/* Chromium closes a channel whose send queue passes 16 MiB; stay well under
 * it, and refill once it has drained to 1 MiB. */
export const BUFFER_HIGH = 4 * 1024 * 1024;
export const BUFFER_LOW = 1024 * 1024;

export interface ChannelHost {
  /** A session event for the UI (progress, offers, results...). */
  onEvent(d: ChannelDriver, e: SessionEvent): void;
  onReady(d: ChannelDriver): void;
  onClosed(d: ChannelDriver): void;
  /** Source files of an outgoing transfer. */
  source(xfer: string): File[] | null;
  /** The sink of an accepted incoming transfer. */
  sink(xfer: string): Sink | null;
}

export class ChannelDriver {
  readonly session: Session;
  private pumping = false;
  private writeQueue: Promise<void> = Promise.resolve();
  private lowWaiter: (() => void) | null = null;

  constructor(
    readonly peerId: string,
    readonly dc: RTCDataChannel,
    sendLimit: number,
    private host: ChannelHost,
  ) {
    // Our SDP advertises 262144 (Chromium, Firefox); the transport knows the
    // limit both ways, and the protocol floor is 16 KiB.
    const maxMsg = Math.max(16384, Math.min(262144, sendLimit || 65536));
    this.session = new Session({ maxMsg, sendLimit: sendLimit || 65536 });
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = BUFFER_LOW;
    // Chromium may report readyState "open" in ondatachannel and still fire
    // "open" afterwards: say hello exactly once.
    let opened = false;
    dc.onopen = () => {
      if (opened) return;
      opened = true;
      this.session.open();
      this.flush();
    };
    dc.onmessage = (e) => {
      if (typeof e.data === 'string') this.session.onText(e.data);
      else this.session.onBinary(new Uint8Array(e.data as ArrayBuffer));
      this.flush();
    };
    dc.onbufferedamountlow = () => {
      const w = this.lowWaiter;
      this.lowWaiter = null;
      w?.();
    };
    dc.onclose = () => {
      this.session.shutdown();
      this.lowWaiter?.();
      host.onClosed(this);
    };
    if (dc.readyState === 'open') dc.onopen(new Event('open'));
  }

  offer(xfer: string, files: FileEntry[]): void {
    this.session.offer(xfer, files);
    this.flush();
  }
  accept(inc: IncomingTransfer, ids?: number[]): void {
    this.session.accept(inc, ids);
    this.flush();
  }
  decline(): void {
    this.session.decline();
    this.flush();
  }
  cancel(xfer: string): void {
    this.session.cancel(xfer);
    this.flush();
  }

  /** Sends queued output and dispatches events; then keeps the sender going. */
  flush(): void {
    for (const o of this.session.takeOutput()) {
      if (this.dc.readyState !== 'open') break;
      try {
        if (o.kind === 'text') this.dc.send(o.data);
        else this.dc.send(o.data as Uint8Array<ArrayBuffer>);
      } catch {
        this.dc.close();
        break;
      }
    }
    for (const e of this.session.takeEvents()) this.dispatch(e);
    if (this.session.isClosed && this.dc.readyState === 'open') setTimeout(() => this.dc.close(), 100);
    void this.pump();
  }

  private dispatch(e: SessionEvent): void {
    switch (e.type) {
      case 'open':
      case 'write':
      case 'close':
        return this.storage(e);
      case 'ready':
        this.host.onReady(this);
        return;
      default:
        this.host.onEvent(this, e);
    }
  }

  /* Storage runs strictly in order, one operation at a time. */
  private storage(e: Extract<SessionEvent, { type: 'open' | 'write' | 'close' }>): void {
    const sink = this.host.sink(e.xfer);
    const s = this.session;
    this.writeQueue = this.writeQueue.then(async () => {
      if (!sink) return;
      try {
        if (e.type === 'open') await sink.open(e.file, e.offset);
        else if (e.type === 'write') {
          await sink.write(e.file, e.bytes);
          s.written(e.xfer, e.file, e.offset + e.bytes.length);
        } else {
          await sink.close(e.file, e.ok);
          if (e.ok) s.closed(e.xfer, e.file, true);
        }
      } catch (err) {
        if (e.type === 'close' && e.ok) s.closed(e.xfer, e.file, false, String(err));
        else s.writeFailed(e.xfer, e.file, err instanceof Error ? err.message : String(err));
      }
      this.flush();
    });
    this.host.onEvent(this, e);
  }

  /** Resolves when the storage queue is empty (before accepting a resume). */
  drained(): Promise<void> {
    return this.writeQueue;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (this.dc.readyState !== 'open') return;
        if (this.dc.bufferedAmount > BUFFER_HIGH) {
          await new Promise<void>((r) => (this.lowWaiter = r));
          continue;
        }
        const req = this.session.nextRead();
        if (!req) return;
        await this.read(req);
        this.flush();
      }
    } finally {
      this.pumping = false;
    }
  }

  private async read(req: ReadRequest): Promise<void> {
    const files = this.host.source(req.xfer);
    const f = files?.[req.file];
    if (!f) return this.session.readFailed(req, 'file no longer available');
    try {
      const buf = await f.slice(req.offset, req.offset + req.length).arrayBuffer();
      this.session.readDone(req, new Uint8Array(buf));
    } catch (err) {
      this.session.readFailed(req, err instanceof Error ? err.message : 'read failed');
    }
  }

  close(): void {
    this.dc.close();
  }
}
