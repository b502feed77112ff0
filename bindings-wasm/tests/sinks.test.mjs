// The sink contract of the WASM package in Node (pkg-src/index.d.ts, PackageSink): the driver keeps
// the last chunks fetch delivered to probe the package's tail, so what a sink does with the chunks it
// is given must not change what is saved or how it is judged.
// - A sink without `copiesChunks` gets chunks of its own: it may keep, overwrite or transfer them.
// - A sink with `copiesChunks` gets fetch's chunks themselves (it promises to copy and leave them).
// Usage: node --test bindings-wasm/tests/sinks.test.mjs   (MESBACKUP_PKG=path to the built package)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, startMock, mockBinary } from './mock.mjs';

const pkgDir = process.env.MESBACKUP_PKG ?? resolve(root, 'bindings-wasm/pkg');
const { Client } = await import(pathToFileURL(join(pkgDir, 'index.js')).href);

// Several MiB, so that the body arrives in many chunks and the tail window spans more than one.
const SIZE = 5 * 1024 * 1024 + 12345;
const SEED = 11;
const expected = execFileSync(mockBinary(), ['payload', '--database', 'MES', '--size', String(SIZE), '--seed', String(SEED)], {
  maxBuffer: 64 << 20,
});
const expectedSha = createHash('sha256').update(expected).digest('hex');

let mock;
before(async () => {
  mock = await startMock();
  await mock.setScenario({ payload: { size: SIZE, seed: SEED } });
});
after(() => mock.stop());

/** A sink that stores copies in memory and then does `abuse` to the chunk it was given. */
function memorySink(abuse, { copiesChunks = false } = {}) {
  const state = { parts: [], chunks: 0, seen: new Set(), sameObjectTwice: false, committed: null };
  const factory = {
    open() {
      return {
        copiesChunks,
        write(chunk) {
          assert.ok(chunk instanceof Uint8Array);
          if (state.seen.has(chunk)) state.sameObjectTwice = true;
          state.seen.add(chunk);
          state.parts.push(Uint8Array.prototype.slice.call(chunk));
          state.chunks++;
          abuse(chunk);
        },
        finish() { return state.parts.reduce((n, p) => n + p.byteLength, 0); },
        commit(fileName) { state.committed = fileName; return fileName; },
        discard() {},
      };
    },
  };
  return { factory, state };
}

async function backupInto(sink) {
  const client = new Client({ envUrl: mock.base, token: 'admin-token', pollMinMs: 10 });
  return client.backup('MES', { sink });
}

function assertSavedWhole(saved, state) {
  assert.equal(saved.outcome, 'saved');
  assert.equal(saved.size, SIZE);
  assert.equal(saved.sha256, expectedSha, 'the driver hashed what was streamed, whatever the sink did afterwards');
  const stored = Buffer.concat(state.parts);
  assert.equal(stored.length, SIZE);
  assert.ok(stored.equals(expected), 'the sink stored the package byte for byte');
  assert.equal(state.committed, saved.fileName);
  assert.ok(state.chunks > 4, `the body came in ${state.chunks} chunks`);
}

test('a sink that overwrites each chunk it was given: the package is saved whole and judged a zip', { timeout: 60_000 }, async () => {
  const { factory, state } = memorySink((chunk) => chunk.fill(0));
  assertSavedWhole(await backupInto(factory), state);
});

test('a sink that transfers (detaches) each chunk it was given: the package is saved whole and judged a zip', { timeout: 60_000 }, async () => {
  const { factory, state } = memorySink((chunk) => {
    structuredClone(chunk.buffer, { transfer: [chunk.buffer] });
    assert.equal(chunk.byteLength, 0, 'the chunk is detached');
  });
  assertSavedWhole(await backupInto(factory), state);
});

test('a copiesChunks sink gets the chunks fetch delivered, each once', { timeout: 60_000 }, async () => {
  const { factory, state } = memorySink(() => {}, { copiesChunks: true });
  assertSavedWhole(await backupInto(factory), state);
  assert.equal(state.sameObjectTwice, false);
});
