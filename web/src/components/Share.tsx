import { useEffect, useMemo, useRef, useState } from 'react';
import QRCode from 'qrcode';
import { buildLink } from '../lib/link';

export function Share({ roomId, password }: { roomId: string; password: string }) {
  const link = useMemo(() => buildLink(window.location.href, roomId, password), [roomId, password]);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [copied, setCopied] = useState(false);
  const [showQr, setShowQr] = useState(true);

  useEffect(() => {
    if (canvas.current && showQr) QRCode.toCanvas(canvas.current, link, { errorCorrectionLevel: 'M', margin: 2, width: 200 }).catch(() => {});
  }, [link, showQr]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };

  return (
    <section className="card share" aria-labelledby="share-h">
      <h2 id="share-h">Invite</h2>
      <p className="muted">Anyone with this link can join. The password is in the part after “#”, which browsers never send to the server.</p>
      <div className="row">
        <input aria-label="Room link" readOnly value={link} onFocus={(e) => e.currentTarget.select()} data-testid="share-link" />
        <button type="button" onClick={copy}>
          {copied ? 'Copied' : 'Copy link'}
        </button>
      </div>
      <span className="sr-only" role="status">
        {copied ? 'Link copied' : ''}
      </span>
      <button type="button" className="link" onClick={() => setShowQr((s) => !s)} aria-expanded={showQr}>
        {showQr ? 'Hide QR code' : 'Show QR code'}
      </button>
      {showQr && <canvas ref={canvas} className="qr" role="img" aria-label="QR code of the room link" />}
    </section>
  );
}
