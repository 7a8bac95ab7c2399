// Text snippets (issue 17, docs/protocol.md §5.9) between the real web app
// in Debian's Chromium and the real `peerdrop` CLI, through the real
// peerdrop-server, on loopback (tests/e2e/run.sh text.test.mjs). Chromium
// only; one browser for the file, and a second one for web -> web (two tabs
// of one profile do not connect: the background tab's fake microphone
// grant, which Chromium needs for loopback candidates, does not come):
//   - web -> web: typed into the box and sent; the other way by pasting
//     outside any field (the box fills, Send sends); shown "from NAME" as
//     text (markup in a snippet stays text), with a Copy button;
//   - web -> CLI: `peerdrop receive --json` gets the exact text and exits;
//   - CLI -> web: `peerdrop send --text T --name N` is shown "from N", and
//     the CLI exits once the page acknowledged it;
//   - a text from the web to a CLI that sends files is printed, and the
//     transfer goes on.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectAccessible } from './axe.mjs';
import { createRoom, launch, shot, startServer, waitConnected, CONNECT_WAIT_MS } from './lib.mjs';
import { cli } from './cli.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launch();
  await browser.ctx.grantPermissions(['microphone', 'clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
});
after(async () => {
  await browser?.close();
  server?.stop();
});

const T = { timeout: 90_000 };

/** The body and "from" line of the newest snippet received on `page`. */
async function newest(page) {
  const item = page.getByTestId('text-received').first();
  await item.waitFor({ timeout: 20_000 });
  return { body: await item.getByTestId('text-body').textContent(), from: await item.getByTestId('text-from').textContent() };
}

async function dump(name, page) {
  const s = await page.evaluate(() => ({ room: window.peerdrop?.getSnapshot(), texts: window.peerdrop?.texts.getSnapshot() })).catch(() => null);
  console.error(name, JSON.stringify(s)?.slice(0, 2500));
  await shot(page, `failure-text-${name}`).catch(() => {});
}

test('web -> web: typed and sent, pasted back; shown as text, from the peer, with Copy', T, async () => {
  const a = browser.page;
  const other = await launch();
  await other.ctx.grantPermissions(['microphone', 'clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
  const b = other.page;
  try {
    const link = await createRoom(a, server.url);
    await b.goto(link);
    await waitConnected([a, b]);
    // markup and a script in a snippet stay text
    const hostile = 'see <img src=x onerror="window.__xss=1"> https://example.com/?a=1&b=2\nline 2\t"tab"';
    await a.getByTestId('text-box').fill(hostile);
    await a.getByTestId('text-send').click();
    const got = await newest(b);
    assert.equal(got.body, hostile);
    // the sender's friendly name from its hello (issue 17, who is who)
    const senderName = await a.evaluate(() => window.peerdrop.getSnapshot().selfName);
    assert.ok(senderName, 'the page has a name');
    assert.equal(got.from, `from ${senderName}`);
    assert.equal(await b.locator('.snippets img').count(), 0);
    assert.equal(await b.evaluate(() => window.__xss), undefined);
    await a.getByTestId('text-sent').getByText('delivered to 1').waitFor({ timeout: 10_000 });
    assert.equal(await a.getByTestId('text-box').inputValue(), '', 'the box is emptied once sent');
    await expectAccessible(a, 'text sent');
    await expectAccessible(b, 'text received, with Copy');
    await b.getByTestId('text-copy').first().click();
    await b.getByTestId('text-copy').first().getByText('Copied').waitFor({ timeout: 5_000 });
    assert.equal(await b.evaluate(() => navigator.clipboard.readText()), hostile);
    // the other way: pasted outside any field fills the box; nothing goes before Send
    const pasted = 'https://peerdrop.example/r/1?x=✓';
    await b.evaluate((text) => {
      const data = new DataTransfer();
      data.setData('text/plain', text);
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, pasted);
    assert.equal(await b.getByTestId('text-box').inputValue(), pasted);
    assert.equal(await a.getByTestId('text-received').count(), 0, 'pasting alone sends nothing');
    await b.getByTestId('text-send').click();
    const back = await newest(a);
    assert.equal(back.body, pasted);
    // a lone http(s) URL gets a link that gives the page no handle on us
    const open = a.getByTestId('text-received').first().getByRole('link', { name: 'Open link' });
    assert.equal(await open.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await open.getAttribute('href'), 'https://peerdrop.example/r/1?x=%E2%9C%93');
    await shot(a, 'text-web-web');
  } catch (e) {
    await dump('a', a);
    await dump('b', b);
    throw e;
  } finally {
    await other.close();
  }
});

test('web -> CLI: peerdrop receive prints the snippet (a text event) and exits', T, async () => {
  const a = browser.page;
  const link = await createRoom(a, server.url);
  const receiver = cli(['receive', link, '--name', 'terminal']);
  try {
    await a.locator('[data-testid=peer][data-state=CONNECTED]').waitFor({ timeout: CONNECT_WAIT_MS });
    const text = 'from the browser: ü 😀\n<b>not bold</b>';
    await a.getByTestId('text-box').fill(text);
    await a.getByTestId('text-send').click();
    const ev = await receiver.waitFor((e) => e.event === 'text', 20_000);
    assert.equal(ev.text, text);
    assert.equal((await receiver.exit(20_000)).code, 0, receiver.summary());
    await a.getByTestId('text-sent').getByText('delivered to 1').waitFor({ timeout: 10_000 });
  } catch (e) {
    await dump('web-cli', a);
    console.error(receiver.summary());
    throw e;
  } finally {
    receiver.kill();
  }
});

test('CLI -> web: peerdrop send --text is shown from its name, and exits once delivered', T, async () => {
  const a = browser.page;
  const text = 'from the terminal\n\twith a tab and a bell \u0007';
  const sender = cli(['send', '--text', text, '--name', 'Build box', '--server', server.url]);
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await a.goto('about:blank'); // from another room's link, only the hash would change
    await a.goto(room.link);
    const got = await newest(a);
    assert.equal(got.body, text);
    assert.equal(got.from, 'from Build box');
    await sender.waitFor((e) => e.event === 'text-delivered', 20_000);
    assert.equal((await sender.exit(20_000)).code, 0, sender.summary());
  } catch (e) {
    await dump('cli-web', a);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
  }
});

test('web -> CLI sender: a text is printed, and the file transfer goes on', T, async () => {
  const a = browser.page;
  const dir = mkdtempSync(join(tmpdir(), 'pd-text-e2e-'));
  writeFileSync(join(dir, 'note.txt'), 'a file beside the text\n');
  const sender = cli(['send', join(dir, 'note.txt'), '--server', server.url, '--count', '1']);
  try {
    const room = await sender.waitFor((e) => e.event === 'room', 15_000);
    await a.goto('about:blank');
    await a.goto(room.link);
    await a.getByTestId('accept').waitFor({ timeout: CONNECT_WAIT_MS });
    await a.getByTestId('text-box').fill('thanks, taking it');
    await a.getByTestId('text-send').click();
    assert.equal((await sender.waitFor((e) => e.event === 'text', 20_000)).text, 'thanks, taking it');
    await a.getByTestId('accept').click();
    await sender.waitFor((e) => e.event === 'done', 30_000);
    assert.equal((await sender.exit(20_000)).code, 0, sender.summary());
  } catch (e) {
    await dump('cli-sender', a);
    console.error(sender.summary());
    throw e;
  } finally {
    sender.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
