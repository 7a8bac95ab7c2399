// Every language (issue 17): a browser whose language is German gets the app
// in German; the switch to French changes the visible text and <html lang>
// (and is remembered); sizes use the locale's decimal separator; and the
// main states (home, a server's refusal by error code, a room with files
// waiting, a peer connected, an offer, a completed transfer) show no
// English message of the catalogue and no untranslated key, and axe-core
// finds nothing serious in two of them. One browser,
// a context for each peer (each its own language), about 20 s.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchShared, openOptions, ROOT, shot, startServer, waitConnected } from './lib.mjs';
import { expectAccessible } from './axe.mjs';

const LOCALES = join(ROOT, 'web', 'src', 'i18n', 'locales');

/** A catalogue's object literal (plain JS between `= {` and the last `};`). */
function catalogue(name) {
  const src = readFileSync(join(LOCALES, `${name}.ts`), 'utf8');
  const body = src.slice(src.indexOf('{', src.indexOf('const ')), src.lastIndexOf('};') + 1);
  return new Function(`return (${body});`)();
}
const texts = (e) => (typeof e === 'string' ? [e] : Object.values(e));
const en = catalogue('en');

/* What would betray an English message on a page in `locale`: the fixed
 * parts of every English text (between placeholders) of 8 characters or
 * more with a letter, unless the locale's own catalogue says the same
 * (technical words such as "SHA-256" stay). And any key shown as itself. */
function englishNeedles(locale) {
  const own = Object.values(catalogue(locale)).flatMap(texts).join('\n');
  const needles = new Set();
  for (const e of Object.values(en))
    for (const t of texts(e))
      for (const part of t.split(/\{\w+\}/)) {
        const p = part.trim();
        if (p.length >= 8 && /\p{L}/u.test(p) && !own.includes(p)) needles.add(p);
      }
  return [...needles];
}
const KEYS = Object.keys(en);

/** Everything a user sees or hears of the page: its text and its labels. */
async function visible(page) {
  return page.evaluate(() => {
    const attrs = [...document.querySelectorAll('[aria-label],[title],[placeholder]')].map((e) => [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('placeholder')].filter(Boolean).join(' '));
    return [document.body.innerText, ...attrs].join('\n');
  });
}

async function assertTranslated(page, locale, state) {
  assert.equal(await page.evaluate(() => document.documentElement.lang), locale, `<html lang> in ${state}`);
  const text = await visible(page);
  const english = englishNeedles(locale).filter((n) => text.includes(n));
  assert.deepEqual(english, [], `English text on the ${locale} page in ${state}`);
  const keys = KEYS.filter((k) => text.includes(k));
  assert.deepEqual(keys, [], `catalogue keys shown as such in ${state}`);
}

let server;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

test('German from the browser, a switch to French, sizes and errors per locale, no English left', { timeout: 150_000 }, async () => {
  const t0 = Date.now();
  const step = (what) => console.error(`[i18n] ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  const shared = await launchShared();
  let a, b;
  try {
    ({ page: a } = await shared.party('A', { locale: 'de-DE' }));
    await a.goto(server.url);
    assert.equal(await a.evaluate(() => navigator.languages[0]), 'de-DE');
    await a.getByText('Dateien oder einen Ordner zum Senden ablegen oder Text einfügen').waitFor({ timeout: 10_000 });
    assert.equal(await a.getByTestId('status').textContent(), 'Bereit');
    await assertTranslated(a, 'de', 'the home page');
    await expectAccessible(a, 'the German home page'); // <html lang>, the switch's label
    await shot(a, 'i18n-de-home');
    step('home (de)');

    // the switch: visible text and <html lang> change at once
    await a.getByTestId('lang').selectOption('fr');
    await a.getByText('Déposez des fichiers ou un dossier à envoyer, ou collez du texte').waitFor({ timeout: 5_000 });
    assert.equal(await a.getByText('Dateien oder einen Ordner zum Senden ablegen oder Text einfügen').count(), 0);
    await assertTranslated(a, 'fr', 'the home page after the switch');

    // a server's refusal by its error code (ROOM_NOT_FOUND), in French
    await openOptions(a);
    await a.getByLabel('Lien ou identifiant du salon').fill('no-such-room');
    await a.getByLabel('Mot de passe (inutile avec un lien complet)').fill('not the password');
    await a.getByRole('button', { name: 'Rejoindre le salon' }).click();
    const refused = a.getByRole('alert');
    await refused.waitFor({ timeout: 15_000 });
    assert.match(await refused.innerText(), /Ce salon n’existe pas/);
    await assertTranslated(a, 'fr', 'a refused join');
    await shot(a, 'i18n-fr-refused');
    step('refused (fr)');

    // the choice is remembered: a reload stays French
    await a.reload();
    await a.getByText('Déposez des fichiers ou un dossier à envoyer, ou collez du texte').waitFor({ timeout: 10_000 });
    assert.equal(await a.evaluate(() => document.documentElement.lang), 'fr');

    // drop first: 1.5 MB, "1,5 Mo" in French, "1,5 MB" in German
    await a.getByTestId('file-input').setInputFiles([{ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(1_500_000, 7) }]);
    const link = await a.getByTestId('share-link').inputValue({ timeout: 15_000 });
    assert.match(await a.getByTestId('outgoing').innerText(), /photo\.jpg\s+1,5\s?Mo/u);
    await assertTranslated(a, 'fr', 'a room with files waiting');

    // the other peer: a German browser of its own
    ({ page: b } = await shared.party('B', { locale: 'de-DE' }));
    await b.goto(link);
    await waitConnected([a, b]);
    await assertTranslated(a, 'fr', 'a room with a connected peer');
    step('connected');
    await b.getByTestId('accept').waitFor({ timeout: 15_000 });
    const offer = b.getByTestId('transfer-in');
    assert.match(await offer.innerText(), /1 Datei, 1,5\s?MB/u);
    await assertTranslated(b, 'de', 'an offer');
    await shot(b, 'i18n-de-offer');
    await b.getByTestId('lang').selectOption('fr');
    assert.match(await offer.innerText(), /1 fichier, 1,5\s?Mo/u);
    await assertTranslated(b, 'fr', 'an offer after a switch');
    await expectAccessible(b, 'a French offer');
    step('offer');

    await b.getByTestId('accept').click();
    await b.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 30_000 });
    await a.locator('[data-testid=transfer-out][data-state=COMPLETED]').waitFor({ timeout: 30_000 });
    assert.match(await offer.innerText(), /1,5\s?Mo sur 1,5\s?Mo \(100\s?%\)/u);
    assert.equal(await b.getByTestId('status').textContent(), 'Reçu ✓');
    await assertTranslated(b, 'fr', 'a completed transfer');
    await assertTranslated(a, 'fr', 'a completed transfer');
    await shot(b, 'i18n-fr-completed-receiver');
    await shot(a, 'i18n-fr-completed-sender');
    step('completed');
  } catch (e) {
    if (a) await shot(a, 'i18n-failure-a').catch(() => {});
    if (b) await shot(b, 'i18n-failure-b').catch(() => {});
    throw e;
  } finally {
    await shared.close();
    step('closed');
  }
});
