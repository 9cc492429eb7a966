// The playground's build: static files in dist/ that any host serves. Served with these two
// headers (`make playground`, the tests), the page is cross-origin isolated and the engine
// runs the threaded build; without them, the same files run the single-threaded one.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

import { Marked } from 'marked';
import { defineConfig } from 'vite';

const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * dist/sw.js: src/sw.js (the service worker that keeps the playground offline) with the list
 * of the build's files and a version over their content-hashed names and the page.
 */
function precache() {
  return {
    name: 'ligature-playground-precache',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const names = Object.keys(bundle).filter((name) => !name.endsWith('.map') && name !== 'index.html').sort();
      const page = bundle['index.html']?.source;
      if (page === undefined) this.error('index.html is not in the bundle: the service worker would not know its page');
      const version = createHash('sha256').update(names.join('\n')).update(page).digest('hex').slice(0, 16);
      const template = readFileSync(new URL('./src/sw.js', import.meta.url), 'utf8');
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: `self.__PRECACHE__ = ${JSON.stringify(['./', ...names])};\nself.__VERSION__ = '${version}';\n\n${template}`,
      });
    },
  };
}

/**
 * reference.html, the page's "Language reference" link: the specification (LANGUAGE.md in
 * the `shared` folder beside the repository, which is normative) and the project's spec
 * notes (docs/spec-notes.md: where this implementation decides what the specification leaves
 * open), rendered by `marked` at build time, with an anchor per heading. A checkout without
 * the specification beside it still builds: the page then says where it is.
 */
function reference() {
  const spec = new URL('../../shared/LANGUAGE.md', import.meta.url);
  const notes = new URL('../docs/spec-notes.md', import.meta.url);
  const render = () => {
    const seen = new Map();
    const marked = new Marked({
      renderer: {
        heading({ tokens, depth, text }) {
          const base = text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '') || 'section';
          const count = seen.get(base) ?? 0;
          seen.set(base, count + 1);
          const id = count === 0 ? base : `${base}-${count}`;
          return `<h${depth} id="${id}"><a href="#${id}">${this.parser.parseInline(tokens)}</a></h${depth}>\n`;
        },
      },
    });
    const specText = existsSync(spec)
      ? readFileSync(spec, 'utf8')
      : '# Ligature language specification\n\nThe specification (`LANGUAGE.md`) was not beside the repository when this page was built.\n';
    const body = marked.parse(`${specText}\n\n${readFileSync(notes, 'utf8')}`);
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Ligature language reference</title>
<style>
body { font: 16px/1.55 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
pre, code { font: 14px/1.45 ui-monospace, monospace; }
pre { overflow-x: auto; padding: .75rem; background: color-mix(in srgb, currentColor 7%, transparent); border-radius: 4px; }
table { border-collapse: collapse; } td, th { border: 1px solid color-mix(in srgb, currentColor 25%, transparent); padding: .25rem .5rem; }
h1 a, h2 a, h3 a, h4 a { color: inherit; text-decoration: none; }
</style>
</head>
<body>
<p><a href="./">← the playground</a></p>
${body}
</body>
</html>
`;
  };
  return {
    name: 'ligature-playground-reference',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url?.split('?')[0] !== '/reference.html') return next();
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(render());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'reference.html', source: render() });
    },
  };
}

export default defineConfig({
  plugins: [reference(), precache()],
  server: { headers },
  preview: { headers },
  // Served as published: pre-bundling would move the package's glue away from its .wasm files.
  optimizeDeps: { exclude: ['ligature'] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
});
