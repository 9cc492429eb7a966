// `node --import ligature/register app.mjs`: registers the module customization hooks of
// tooling/hooks.js, so that `import config, { port } from './app.lig'` works in plain Node
// (20.6 and later), with the exports the bundler plugins give (tooling/compile.js).
import { register } from 'node:module';

register('./tooling/hooks.js', import.meta.url);
