// How the single-threaded build's linear memory grows (src/wasm_heap.rs). Every `memory.grow`
// replaces the memory's ArrayBuffer, and V8 accounts each new buffer at the memory's whole
// size, so past a few tens of MB nearly every grow cost a full garbage collection: growing
// by the pages each request needed made the first large evaluation in a process twice as
// slow as the next (issue 17). JS sees the buffer only between calls into the module, so
// this test makes many calls that each keep memory: a session's files.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Session } from '../node.js';
import * as glue from '../dist/web/ligature.js';

// The instance node.js made (a second initSync returns it).
const { memory } = glue.initSync();

test('memory kept call by call grows a logarithmic number of times', () => {
  const session = new Session();
  const text = `let a = "${'x'.repeat(64 * 1024)}";\n`;
  const files = 400;
  const before = memory.buffer.byteLength;
  let buffer = memory.buffer;
  let replaced = 0;
  for (let i = 0; i < files; i++) {
    session.setFile(`f${i}.lig`, text);
    if (memory.buffer !== buffer) {
      replaced += 1;
      buffer = memory.buffer;
    }
  }
  const grown = memory.buffer.byteLength - before;
  assert.ok(grown >= files * text.length, `the files are kept: grown by ${grown} bytes`);
  // Growing by half the memory at least: 9 MiB to 35 MiB in 4 grows. Growing by what each
  // call needed replaced the buffer at nearly every call (about 400 times).
  assert.ok(replaced <= 10, `${replaced} grows for ${files} files of ${text.length} bytes`);
  session.free();
});
