import { useEffect, useMemo, useRef, useState } from 'react';
import QRCode from 'qrcode';
import { buildLink } from '../lib/link';
import { useI18n } from '../i18n';

export function Share({ roomId, password }: { roomId: string; password: string }) {
  const { t } = useI18n();
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
      <h2 id="share-h">{t('share.title')}</h2>
      <p className="muted">{t('share.intro')}</p>
      <div className="row">
        <input aria-label={t('share.link')} readOnly value={link} onFocus={(e) => e.currentTarget.select()} data-testid="share-link" />
        <button type="button" onClick={copy}>
          {copied ? t('share.copied') : t('share.copy')}
        </button>
      </div>
      <span className="sr-only" role="status">
        {copied ? t('share.linkCopied') : ''}
      </span>
      <button type="button" className="link" onClick={() => setShowQr((s) => !s)} aria-expanded={showQr}>
        {showQr ? t('share.hideQr') : t('share.showQr')}
      </button>
      {showQr && <canvas ref={canvas} className="qr" role="img" aria-label={t('share.qr')} />}
    </section>
  );
}
