// The same, importing the threaded build by name (for a page known to be cross-origin
// isolated): its glue is bundled into this worker's own chunk.
import * as ligature from 'ligature/web-threads';
import { check } from './check.js';

self.postMessage(await check(ligature, 2));
