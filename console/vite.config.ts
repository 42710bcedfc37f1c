import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by `pa serve` at /console/, same origin as the API.
// `npm run dev` proxies the API to a local `pa serve` (PA_SERVER, default :8080).
const server = process.env.PA_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: true },
  server: {
    proxy: {
      '/api': server,
      '/t': server,
      '/metrics': server,
    },
  },
});
