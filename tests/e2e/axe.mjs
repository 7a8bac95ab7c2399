// Accessibility checks for the e2e suites (issue 17): axe-core (npm, tests
// only) injected into the page under test, and no violation of serious or
// critical impact allowed. Any suite may call it in its main states:
//   import { expectAccessible } from './axe.mjs';
//   await expectAccessible(page, 'room with a peer');
// axe is evaluated through the DevTools protocol, not added as a <script>,
// so the app's Content-Security-Policy (script-src 'self') stays as served.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const AXE_SOURCE = createRequire(import.meta.url)('axe-core').source;

/** The serious and critical violations axe finds in `page` (WCAG 2.2 A/AA and best practices). */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Fails with each serious or critical violation's rule and where it is. */
export async function expectAccessible(page, state) {
  const bad = await axeViolations(page);
  assert.deepEqual(bad, [], `${state}: axe-core found ${bad.map((v) => `${v.id} (${v.impact}: ${v.help}) at ${v.targets.join(', ')}`).join('; ')}`);
}
