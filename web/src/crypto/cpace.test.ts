/* CPace (cpace.ts) against every CPACE-RISTR255-SHA512 vector of
 * draft-irtf-cfrg-cpace, the same file tests/unit/test_pake.c replays:
 * string utilities, generator, shares, K, ISK in both transcript modes,
 * sid_output, scalar_mult and the invalid points that MUST abort. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha512 } from '@noble/hashes/sha2.js';
import * as cp from './cpace';
import { hex, unhex } from './bytes';
import { must } from '../testing/must';

const V = JSON.parse(readFileSync(new URL('../../../docs/vectors/cpace-ristretto255.json', import.meta.url), 'utf8'));

describe('CPace string utilities (draft appendix)', () => {
  it('prepend_len', () => {
    expect(V.prepend_len).toHaveLength(4);
    for (const c of V.prepend_len) expect(hex(cp.prependLen(unhex(c.in)))).toBe(c.out);
  });
  it('lv_cat', () => {
    for (const c of V.lv_cat) expect(hex(cp.lvCat(...c.in.map(unhex)))).toBe(c.out);
  });
  it('lexiographically_larger and o_cat', () => {
    expect(V.lexiographically_larger).toHaveLength(6);
    for (const c of V.lexiographically_larger) expect(cp.lexiographicallyLarger(unhex(c.a), unhex(c.b))).toBe(c.larger);
    for (const c of V.o_cat) expect(hex(cp.oCat(unhex(c.a), unhex(c.b)))).toBe(c.out);
  });
  it('transcript_ir and transcript_oc', () => {
    for (const [mode, list] of [['ir', V.transcript_ir], ['oc', V.transcript_oc]] as const) {
      expect(list).toHaveLength(2);
      for (const c of list) expect(hex(cp.transcript(mode, unhex(c.Ya), unhex(c.ADa), unhex(c.Yb), unhex(c.ADb)))).toBe(c.out);
    }
  });
});

describe('CPACE-RISTR255-SHA512 (draft test vectors)', () => {
  const e = V.exchange;
  const input = (name: string): Uint8Array => unhex(must<string>(e[name], `exchange.${name}`));
  const [prs, ci, sid, ya, yb, ada, adb] = [input('PRS'), input('CI'), input('sid'), input('ya'), input('yb'), input('ADa'), input('ADb')];

  it('calculate_generator', () => {
    expect(V.suite).toBe('CPACE-RISTR255-SHA512');
    const c = V.calculate_generator;
    expect(c.s_in_bytes).toBe(cp.S_IN_BYTES);
    expect(hex(cp.DSI)).toBe(c.DSI);
    const gs = cp.generatorString(unhex(c.PRS), unhex(c.CI), unhex(c.sid));
    expect(hex(gs)).toBe(c.generator_string);
    expect(gs[1 + cp.DSI.length + 1 + unhex(c.PRS).length]).toBe(c.zpad_len);
    expect(hex(sha512(gs))).toBe(c.hash);
    expect(hex(cp.calculateGenerator(unhex(c.PRS), unhex(c.CI), unhex(c.sid)).toBytes())).toBe(c.g);
  });

  it('messages, K, ISK in both modes, sid_output', () => {
    const g = cp.calculateGenerator(prs, ci, sid);
    expect(hex(g.toBytes())).toBe(e.g);
    const Ya = cp.scalarMult(ya, g);
    expect(hex(Ya)).toBe(e.Ya);
    const Yb = cp.share(yb, prs, ci, sid);
    expect(hex(Yb)).toBe(e.Yb);
    const k = cp.scalarMultVfy(ya, Yb);
    expect(hex(k)).toBe(e.K);
    expect(hex(cp.scalarMultVfy(yb, Ya))).toBe(e.K);
    expect(hex(cp.isk('ir', sid, k, Ya, ada, Yb, adb))).toBe(e.ISK_IR);
    expect(hex(cp.isk('oc', sid, k, Ya, ada, Yb, adb))).toBe(e.ISK_SY);
    expect(hex(cp.sidOutput('ir', Ya, ada, Yb, adb))).toBe(e.sid_output_ir);
    expect(hex(cp.sidOutput('oc', Ya, ada, Yb, adb))).toBe(e.sid_output_oc);
    for (const [mode, want] of [['ir', e.ISK_IR], ['oc', e.ISK_SY]] as const) {
      expect(hex(cp.finish(mode, 'A', ya, sid, Ya, ada, Yb, adb))).toBe(want);
      expect(hex(cp.finish(mode, 'B', yb, sid, Ya, ada, Yb, adb))).toBe(want);
    }
    // the transcript is ordered by role: A and B swapped give another key
    expect(hex(cp.finish('ir', 'A', ya, sid, Yb, adb, Ya, ada))).not.toBe(e.ISK_IR);
  });

  it('scalar_mult with valid inputs', () => {
    const c = V.scalar_mult;
    const X = cp.scalarMultVfy(unhex(c.s), unhex(c.X));
    expect(hex(X)).toBe(c.scalar_mult_vfy);
    expect(c.scalar_mult).toBe(c.scalar_mult_vfy);
  });

  it('invalid points give G.I and abort the protocol on either side', () => {
    expect(V.invalid_points).toHaveLength(2);
    const Ya = unhex(e.Ya), Yb = unhex(e.Yb);
    for (const p of V.invalid_points) {
      expect(hex(cp.scalarMultVfy(unhex(p.s), unhex(p.Y)))).toBe(V.identity);
      expect(() => cp.finish('ir', 'A', ya, sid, Ya, ada, unhex(p.Y), adb)).toThrow(cp.CPaceAbort);
      expect(() => cp.finish('ir', 'B', yb, sid, unhex(p.Y), ada, Yb, adb)).toThrow(cp.CPaceAbort);
    }
    expect(() => cp.finish('ir', 'A', ya, sid, Ya, ada, Yb.slice(0, 31), adb)).toThrow(cp.CPaceAbort);
  });

  it('sampled scalars have their top four bits clear and differ', () => {
    const a = cp.sampleScalar();
    for (let i = 0; i < 64; i++) expect(must(cp.sampleScalar()[31], 'byte 31') & 0xf0).toBe(0);
    expect(hex(cp.sampleScalar())).not.toBe(hex(a));
  });
});
