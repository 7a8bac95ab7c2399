#!/usr/bin/env node
// Renders the app's PNG icons from its SVG ones (web/public/icons/), with
// Debian's Chromium through the e2e tests' playwright-core: Debian has no
// ImageMagick or rsvg here by default, and the PNGs are small enough to
// commit. Run after changing an SVG: node scripts/web-icons.mjs
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '../tests/e2e/node_modules/playwright-core/index.mjs';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'public', 'icons');
const out = [
  ['icon.svg', 'icon-192.png', 192],
  ['icon.svg', 'icon-512.png', 512],
  ['maskable.svg', 'maskable-192.png', 192],
  ['maskable.svg', 'maskable-512.png', 512],
];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
try {
  for (const [svg, png, size] of out) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const src = 'data:image/svg+xml;base64,' + readFileSync(join(dir, svg)).toString('base64');
    await page.setContent(`<style>html,body{margin:0;background:transparent}</style><img src="${src}" width="${size}" height="${size}">`);
    await page.locator('img').screenshot({ path: join(dir, png), omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
