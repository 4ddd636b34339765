// Builds the learner page's script and stylesheet into the page template, where Voila
// serves them: `npm ci && node build.mjs` (scripts/setup.sh runs it). The outputs are
// build products, ignored by git, and package data of the wheel.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const outdir = here('../src/wechat_training/learning/page_template/voila/templates/wechat/static');

const result = await build({
  entryPoints: { 'learner-page': here('src/learner-page.js') },
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  // The widget stylesheets name a few icons and fonts: carried inside, no extra request.
  loader: { '.svg': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl' },
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  console.log(`${file.replace(/.*\//, '')}: ${Math.round(output.bytes / 1024)} KiB`);
}
