import { defineConfig, searchForWorkspaceRoot } from 'vite';
import react from '@vitejs/plugin-react';

// Built files are served by peerdrop-server from --web-root web/dist;
// base './' keeps every asset path relative. No source maps: the server
// never serves them (docs/security.md); `npm run dev` still has them.
export default defineConfig({
  base: './',
  plugins: [react()],
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
