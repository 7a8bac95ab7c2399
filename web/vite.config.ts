import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built files are served by peerdrop-server from --web-root web/dist;
// base './' keeps every asset path relative.
export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: true, target: 'es2022' },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
