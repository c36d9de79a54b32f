// Bundle the browser code and CSS into dist/collab/ (served by Django as static files).
// Deterministic: fixed entry names, no timestamps or absolute paths, so the same sources give
// byte-identical output; cache-busting hashes come from collectstatic's manifest storage.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, 'dist', 'collab');
const watch = process.argv.includes('--watch');

await rm(outdir, { recursive: true, force: true });

const shared = {
  absWorkingDir: here,
  outdir,
  bundle: true,
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  charset: 'utf8',
  legalComments: 'eof',
  logLevel: 'info',
  define: { 'process.env.NODE_ENV': '"production"' },
  // sharedb's client asks for two Node built-ins; these small stand-ins cover what it uses.
  alias: {
    events: './src/shims/events.js',
    util: './src/shims/util.js',
  },
};

// Two passes, so each page gets its script and stylesheet by the same name (editor.js +
// editor.css, history.js + history.css, app.js + app.css).
const passes = [
  { ...shared, entryPoints: { editor: 'src/editor.js', history: 'src/history.js', app: 'src/app.js' } },
  {
    ...shared,
    entryPoints: { editor: 'src/css/editor.css', history: 'src/css/history.css', app: 'src/css/app.css' },
  },
];

if (watch) {
  const { context } = await import('esbuild');
  for (const options of passes) await (await context(options)).watch();
} else {
  for (const options of passes) await build(options);
}
