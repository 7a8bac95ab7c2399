// The drop-first flow (issue 17): files dropped on the home page create a
// room at once and are offered to each receiver as it joins; each browser's
// friendly name reaches its peers over the data channel (never the server)
// and an edited name survives a reload; the header badge and the page title
// say what is true in each state; and the main flow runs from the keyboard
// alone. One Chromium for the file, a context per party (lib.mjs).

import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectAccessible } from './axe.mjs';
import { launch, launchShared, receivedHashes, shot, startServer, CONNECT_WAIT_MS } from './lib.mjs';

const sha = (b) => createHash('sha256').update(b).digest('hex');
/* Every title the page had, in order (the app sets it after each render). */
const TITLES = `
  window.__titles = [];
  new MutationObserver(() => {
    const t = document.title;
    if (window.__titles[window.__titles.length - 1] !== t) window.__titles.push(t);
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

let server;
let chromium;
before(async () => {
  server = await startServer();
  chromium = await launchShared();
});
after(async () => {
  await chromium?.close();
  server?.stop();
});

async function party(name) {
  const p = await chromium.party(name);
  await p.ctx.addInitScript(TITLES);
  return p;
}
const badge = (page) => page.getByTestId('status');
async function badgeIs(page, text) {
  await page.locator('[data-testid=status]', { hasText: text }).waitFor({ timeout: CONNECT_WAIT_MS });
  assert.equal(await page.title(), `${text} · Peerdrop`);
}
const titles = (page) => page.evaluate(() => window.__titles);

async function dumpOnFailure(parties, e) {
  for (const [n, p] of parties) {
    console.error(n, JSON.stringify(await p.evaluate(() => window.peerdrop?.getSnapshot()).catch(() => null))?.slice(0, 3000));
    await shot(p, `flow-failure-${n}`).catch(() => {});
  }
  throw e;
}

test('drop first: the room is made at once, two receivers each get the files, names shown both ways, badge and title true', { timeout: 150_000 }, async () => {
  const a = await party('sender');
  const b = await party('receiver-1');
  const c = await party('receiver-2');
  const pages = [['A', a.page], ['B', b.page], ['C', c.page]];
  try {
    const files = [
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('drop first\n') },
      { name: 'data.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(Array.from({ length: 2_000_000 }, (_, i) => (i * 31) % 251)) },
    ];
    await a.page.goto(server.url);
    assert.equal(await badge(a.page).innerText(), 'Ready');
    assert.equal(await a.page.title(), 'Peerdrop');
    await expectAccessible(a.page, 'home (drop zone)');

    // A renames itself; the name is kept across a reload
    const name = a.page.getByTestId('self-name');
    assert.match(await name.inputValue(), /^[A-Z][a-z]+ [A-Z][a-z]+$/, 'a friendly name is made up');
    await name.fill('Sender Tiger');
    await name.press('Enter');
    await a.page.reload();
    assert.equal(await a.page.getByTestId('self-name').inputValue(), 'Sender Tiger');
    assert.equal(await a.page.getByTestId('self-device').innerText(), 'Chrome on Linux');

    // dropping (choosing) files on the home page creates the room and shows its link
    await a.page.getByTestId('file-input').setInputFiles(files);
    const link = await a.page.getByTestId('share-link').inputValue({ timeout: 30_000 });
    assert.match(link, /#room=[0-9a-f-]{36}&key=/);
    await a.page.locator('canvas.qr').waitFor();
    assert.match(await a.page.getByTestId('outgoing').innerText(), /notes\.txt[\s\S]*data\.bin/);
    await badgeIs(a.page, 'Waiting for someone to join');
    await shot(a.page, 'flow-dropped');
    await expectAccessible(a.page, 'dropped: link, QR, files waiting');

    // the first receiver is offered the files as soon as it connects, and sees who sends them
    await b.page.goto(link);
    const bName = await b.page.getByTestId('self-name').inputValue();
    const offer = b.page.locator('[data-testid=transfer-in][data-state=OFFERED]');
    await offer.waitFor({ timeout: CONNECT_WAIT_MS });
    assert.match(await offer.innerText(), /From Sender Tiger/);
    assert.equal(await b.page.getByTestId('peer-name').innerText(), 'Sender Tiger');
    assert.equal(await b.page.getByTestId('peer-device').innerText(), 'Chrome on Linux');
    await badgeIs(b.page, 'Files offered to you');
    await expectAccessible(b.page, 'receiver: an offer from a named peer');
    assert.equal(await a.page.getByTestId('peer-name').innerText(), bName, 'the sender lists the receiver by its name');
    await badgeIs(a.page, 'Waiting for the receiver to accept');
    await b.page.getByTestId('accept').click();
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    await badgeIs(b.page, 'Received ✓');
    await expectAccessible(b.page, 'receiver: received');
    await a.page.locator('[data-testid=transfer-out][data-state=COMPLETED]').waitFor({ timeout: 30_000 });
    await badgeIs(a.page, 'Sent ✓');
    assert.match(await a.page.getByTestId('transfer-out').innerText(), new RegExp(`To ${bName}`));

    // a second receiver joining later gets the same files
    await c.page.goto(link);
    const cOffer = c.page.locator('[data-testid=transfer-in][data-state=OFFERED]');
    await cOffer.waitFor({ timeout: CONNECT_WAIT_MS });
    assert.match(await cOffer.innerText(), /From Sender Tiger/);
    await c.page.getByTestId('accept').click();
    await c.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    await a.page.locator('[data-testid=transfer-out][data-state=COMPLETED]').nth(1).waitFor({ timeout: 30_000 });
    await shot(a.page, 'flow-sent-twice');
    for (const p of [b.page, c.page]) {
      const got = await receivedHashes(p);
      for (const f of files) assert.equal(got[f.name], sha(f.buffer), f.name);
    }

    // every state was said in the title, in order
    const seenA = await titles(a.page);
    const order = ['Waiting for someone to join', 'Waiting for the receiver to accept', /^Sending \d+%$/, 'Sent ✓'];
    let i = 0;
    for (const t of seenA.map((x) => x.replace(/ · Peerdrop$/, ''))) if (i < order.length && (typeof order[i] === 'string' ? t === order[i] : order[i].test(t))) i++;
    assert.equal(i, order.length, `sender's titles: ${seenA.join(' | ')}`);
    assert.ok((await titles(b.page)).some((t) => /^Receiving \d+% · Peerdrop$/.test(t)), 'the receiver said it was receiving');
    assert.equal((await a.page.getByTestId('peer').all()).length, 2, 'both receivers listed');
  } catch (e) {
    await dumpOnFailure(pages, e);
  } finally {
    await a.ctx.close();
    await b.ctx.close();
    await c.ctx.close();
  }
});

/* Presses Tab until the focused element is the one `want` names (its
 * accessible text, value or label); at most 40 presses. */
async function tabTo(page, want, shift = false) {
  // the user looks at this window: in a shared browser, a page in the
  // background gets no file chooser from a key press
  await page.bringToFront();
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
    const here = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return '';
      const label = e.id ? document.querySelector(`label[for="${CSS.escape(e.id)}"]`)?.textContent : '';
      const text = ['BUTTON', 'SUMMARY', 'A'].includes(e.tagName) ? e.textContent : '';
      return [e.getAttribute('aria-label'), label, text].filter(Boolean).join(' | ');
    });
    if (want.test(here)) return;
  }
  throw new Error(`no focusable element matching ${want} within 40 Tabs`);
}

test('keyboard only: an empty room from Options, a receiver by the Receive box, files chosen and accepted with Enter and Space', { timeout: 150_000 }, async () => {
  // The sender, who opens the file chooser, has a browser of its own: in a
  // browser shared with the receiver's context, Enter on "Choose files"
  // opened no chooser in about one run of three (a page the browser does not
  // count as the focused one gets none), on main's code as on this branch.
  const own = await launch();
  await own.ctx.addInitScript(TITLES);
  const a = { ctx: own.ctx, page: own.page };
  const b = await party('kb-receiver');
  const pages = [['A', a.page], ['B', b.page]];
  try {
    await a.page.goto(server.url);
    // Options opens with Enter; its Create room button with Space
    await tabTo(a.page, /^Options$/);
    await a.page.keyboard.press('Enter');
    await tabTo(a.page, /^Create room$/);
    await a.page.keyboard.press('Space');
    const link = await a.page.getByTestId('share-link').inputValue({ timeout: 30_000 });
    await badgeIs(a.page, 'Waiting for someone to join');

    await b.page.goto(server.url);
    await tabTo(b.page, /Receive with a link or code/);
    await b.page.keyboard.type(link);
    await b.page.keyboard.press('Enter');
    await badgeIs(a.page, 'Connected to 1 person');
    await badgeIs(b.page, 'Connected to 1 person');

    // the file picker opens from the keyboard: Enter on "Choose files" makes
    // the app open its file input (input.click()); the chooser itself is the
    // browser's, and headless Chromium sometimes shows none for a page it
    // does not count as focused (no filechooser event in 2 of 2 full runs
    // and 2 of 3 local ones), so the test checks the app's part and then
    // sets the files on that input
    await a.page.evaluate(() => {
      window.__fileInputClicks = 0;
      for (const i of document.querySelectorAll('input[type=file]')) i.addEventListener('click', () => window.__fileInputClicks++);
    });
    await tabTo(a.page, /^Choose files$/);
    await a.page.keyboard.press('Enter');
    await a.page.waitForFunction(() => window.__fileInputClicks === 1, null, { timeout: 10_000 });
    await a.page.getByTestId('file-input').setInputFiles([{ name: 'typed.txt', mimeType: 'text/plain', buffer: Buffer.from('no mouse\n') }]);

    await b.page.locator('[data-testid=transfer-in][data-state=OFFERED]').waitFor({ timeout: 30_000 });
    await tabTo(b.page, /^Accept and save$/);
    await b.page.keyboard.press('Space');
    await b.page.locator('[data-testid=transfer-in][data-state=COMPLETED]').waitFor({ timeout: 60_000 });
    await badgeIs(b.page, 'Received ✓');
    await badgeIs(a.page, 'Sent ✓');
    assert.equal((await receivedHashes(b.page))['typed.txt'], sha(Buffer.from('no mouse\n')));
  } catch (e) {
    await dumpOnFailure(pages, e);
  } finally {
    await own.close();
    await b.ctx.close();
  }
});
