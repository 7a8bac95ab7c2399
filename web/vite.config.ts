import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, searchForWorkspaceRoot, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/* The service worker's precache list, dist/precache.js, which public/sw.js
 * loads with importScripts: the app shell (index.html, every file the build
 * emits, the public files but sw.js) and a version, a hash of all their
 * names and bytes. A new deploy changes the version, so this script
 * changes, and the browser's update check (which compares imported scripts
 * too) installs the new worker, which fills a new cache and drops the old
 * one (docs/architecture.md, "The web app's service worker"). */
function precacheList(): Plugin {
  const publicDir = fileURLToPath(new URL('./public', import.meta.url));
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]));
  return {
    name: 'peerdrop-precache',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const files = new Map<string, string | Uint8Array>();
      for (const [name, f] of Object.entries(bundle)) files.set(name, f.type === 'asset' ? f.source : f.code);
      for (const path of walk(publicDir)) files.set(relative(publicDir, path).split('\\').join('/'), readFileSync(path));
      files.delete('sw.js'); // the browser keeps the worker itself
      const names = [...files.keys()].filter((n) => !n.endsWith('.map')).sort();
      const hash = createHash('sha256');
      for (const n of names) hash.update(`${n}\0`).update(files.get(n)!).update('\0');
      const list = { version: hash.digest('hex').slice(0, 16), files: names };
      this.emitFile({ type: 'asset', fileName: 'precache.js', source: `self.PEERDROP_PRECACHE = ${JSON.stringify(list)};\n` });
    },
  };
}

// Built files are served by peerdrop-server from --web-root web/dist;
// base './' keeps every asset path relative. No source maps: the server
// never serves them (docs/security.md); `npm run dev` still has them.
export default defineConfig({
  base: './',
  plugins: [react(), precacheList()],
  build: { outDir: 'dist', sourcemap: false, target: 'es2022' },
  // The short codes' word list is docs/vectors/code-words.txt, outside web/,
  // shared with the C build (src/lib/code.ts imports it with ?raw). The
  // build reads it like any import; the dev server serves only what
  // fs.allow lists: the app and that folder, nothing else of the repository.
  server: { fs: { allow: [searchForWorkspaceRoot(process.cwd()), '../docs/vectors'] } },
  // the OPFS worker (src/app/opfs-worker.ts) is started as a module worker
  worker: { format: 'es' },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
