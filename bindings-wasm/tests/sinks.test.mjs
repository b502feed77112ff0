// The sink contract of the WASM package in Node (pkg-src/index.d.ts, PackageSink): the driver keeps
// the last chunks fetch delivered to probe the package's tail, so what a sink does with the chunks it
// is given must not change what is saved or how it is judged.
// - A sink without `copiesChunks` gets chunks of its own: it may keep, overwrite or transfer them.
// - A sink with `copiesChunks` gets fetch's chunks themselves (it promises to copy and leave them).
// - Node's fileSink (a worker thread hashes and writes): a failing write and a cancelled download
//   leave nothing in the folder and say what happened.
// Usage: node --test bindings-wasm/tests/sinks.test.mjs   (MESBACKUP_PKG=path to the built package)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { mockBinary, root, startMock } from './mock.mjs';

const pkgDir = process.env.MESBACKUP_PKG ?? resolve(root, 'bindings-wasm/pkg');
const { Client } = await import(pathToFileURL(join(pkgDir, 'index.js')).href);

// Several MiB, so that the body arrives in many chunks and the tail window spans more than one.
const SIZE = 5 * 1024 * 1024 + 12345;
const SEED = 11;
const expected = execFileSync(
  mockBinary(),
  ['payload', '--database', 'MES', '--size', String(SIZE), '--seed', String(SEED)],
  {
    maxBuffer: 64 << 20,
  },
);
const expectedSha = createHash('sha256').update(expected).digest('hex');

let mock;
const tmp = mkdtempSync(join(tmpdir(), 'mesbackup-sinks-'));
before(async () => {
  mock = await startMock();
});
after(() => {
  mock.stop();
  rmSync(tmp, { recursive: true, force: true });
});

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
        finish() {
          return state.parts.reduce((n, p) => n + p.byteLength, 0);
        },
        commit(fileName) {
          state.committed = fileName;
          return fileName;
        },
        discard() {},
      };
    },
  };
  return { factory, state };
}

async function backupInto(sink) {
  await mock.setScenario({ payload: { size: SIZE, seed: SEED } });
  const client = new Client({ envUrl: mock.base, token: 'admin-token', minPollDelayMs: 10 });
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

test('a sink that overwrites each chunk it was given: the package is saved whole and judged a zip', {
  timeout: 60_000,
}, async () => {
  const { factory, state } = memorySink((chunk) => chunk.fill(0));
  assertSavedWhole(await backupInto(factory), state);
});

test('a sink that transfers (detaches) each chunk it was given: the package is saved whole and judged a zip', {
  timeout: 60_000,
}, async () => {
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

test('fileSink: a write the file system refuses is an io error and leaves nothing in the folder', {
  timeout: 60_000,
}, async () => {
  // A child process whose files may not grow past 2 MiB (ulimit -f; Node ignores SIGXFSZ, so the
  // worker's write fails with EFBIG after the first buffers went through).
  await mock.setScenario({ payload: { size: SIZE, seed: SEED } });
  const out = mkdtempSync(join(tmp, 'efbig-'));
  const child = join(tmp, 'efbig-child.mjs');
  writeFileSync(
    child,
    `
    const { Client } = await import(${JSON.stringify(pathToFileURL(join(pkgDir, 'index.js')).href)});
    const { fileSink } = await import(${JSON.stringify(pathToFileURL(join(pkgDir, 'node.js')).href)});
    const client = new Client({ envUrl: process.argv[2], token: 'admin-token', minPollDelayMs: 10 });
    try {
      await client.backup('MES', { sink: fileSink(process.argv[3]) });
      console.log(JSON.stringify({ saved: true }));
    } catch (e) {
      console.log(JSON.stringify({ kind: e.kind, message: e.message }));
    }
  `,
  );
  const text = execFileSync(
    'bash',
    ['-c', 'ulimit -f 4096 && exec "$0" "$@"', process.execPath, child, mock.base, out],
    { encoding: 'utf8' },
  );
  const result = JSON.parse(text.trim().split('\n').pop());
  assert.equal(result.kind, 'io', JSON.stringify(result));
  assert.match(result.message, /EFBIG|too large/i);
  assert.deepEqual(readdirSync(out), [], 'no package, no temporary file, no sidecar');
});

test('fileSink: a download cancelled mid-way leaves nothing in the folder', { timeout: 60_000 }, async () => {
  // 16 MiB dripped in 256 KiB pieces: the worker holds buffers in flight when the signal fires.
  await mock.setScenario({
    payload: { size: 16 << 20, seed: SEED },
    download: { drip: { chunk: 256 << 10, interval_ms: 5 } },
  });
  const out = mkdtempSync(join(tmp, 'cancel-'));
  const controller = new AbortController();
  const client = new Client({ envUrl: mock.base, token: 'admin-token', minPollDelayMs: 10 });
  const { fileSink } = await import(pathToFileURL(join(pkgDir, 'node.js')).href);
  let seen = 0;
  const err = await client
    .backup('MES', {
      sink: fileSink(out),
      signal: controller.signal,
      onProgress: (e) => {
        seen = e.bytes;
        if (e.bytes > 4 << 20) controller.abort();
      },
    })
    .then(
      () => assert.fail('the download finished despite the abort'),
      (e) => e,
    );
  assert.equal(err.kind, 'cancelled', err.message);
  assert.ok(seen > 4 << 20 && seen < 16 << 20, `cancelled after ${seen} bytes`);
  assert.deepEqual(readdirSync(out), [], 'no package, no temporary file, no sidecar');
});
