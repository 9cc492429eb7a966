// The module Worker: the wasm blocks while it evaluates, and the pool waits with
// Atomics.wait, so ligature's threads run here rather than on the page.
import * as ligature from 'ligature';
import { check } from './check.js';

self.postMessage(await check(ligature, 2));
