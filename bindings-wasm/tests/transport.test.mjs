// Transport failures of the WASM package in Node that no scenario can stage (the server is not there):
// a refused connection certainly sent nothing, so the POST is retried like natively (reqwest's
// is_connect), and the error says the MES could not be reached, not that a backup may have started.
// Also the shared driver's redaction of echoed secrets, and fileSink's checks before the one-shot
// step (prepare(): the folder takes files; open(): the free space holds the Content-Length).
// Usage: node --test bindings-wasm/tests/transport.test.mjs   (MESBACKUP_PKG=path to the built package)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { root, startMock } from './mock.mjs';

const pkgDir = process.env.MESBACKUP_PKG ?? resolve(root, 'bindings-wasm/pkg');
const { Client } = await import(pathToFileURL(join(pkgDir, 'index.js')).href);
const { fileSink } = await import(pathToFileURL(join(pkgDir, 'node.js')).href);
const tmp = mkdtempSync(join(tmpdir(), 'mesbackup-transport-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A port nothing listens on (bound, then closed). */
async function closedPort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

test('a refused connection: the POST is retried, then a network error that says the MES was not reached', async () => {
  const port = await closedPort();
  const client = new Client({
    envUrl: `http://127.0.0.1:${port}`,
    token: 'admin-token',
    retryDelayMs: 10,
    minPollDelayMs: 10,
    maxConsecutiveFailures: 3,
  });
  const events = [];
  const err = await client.backup('MESCDM', { sink: fileSink(tmp), onEvent: (e) => events.push(e) }).then(
    () => assert.fail('a backup against a closed port succeeded'),
    (e) => e,
  );
  assert.equal(err.kind, 'network', err.message);
  assert.match(err.message, /cannot reach the MES/);
  assert.doesNotMatch(err.message, /was sent but no answer/);
  const retries = events.filter((e) => e.event === 'retrying');
  assert.ok(retries.length >= 2, `the POST was retried: ${JSON.stringify(events.map((e) => e.event))}`);
  assert.deepEqual(readdirSync(tmp), [], 'nothing left in the folder');
});

test('a token echoed across the 200-character quote of an error body shows no piece of itself', async () => {
  const mock = await startMock();
  try {
    const token = 'Zq7kP9xW4mR2vT8nL5cJ';
    // Faults answer before authentication: any token reaches the echo.
    await mock.setScenario({
      faults: [{ method: 'POST', nth: 'all', status: 500, body: `${'x'.repeat(192)}${token} here` }],
    });
    const client = new Client({ envUrl: mock.base, token });
    const err = await client.backup('MESCDM', { sink: fileSink(tmp) }).then(
      () => assert.fail('saved'),
      (e) => e,
    );
    assert.equal(err.kind, 'server_error', err.message);
    assert.match(err.message, /xxxxxxxx<redacte/);
    for (let i = 0; i + 6 <= token.length; i++) assert.ok(!err.message.includes(token.slice(i, i + 6)), err.message);
  } finally {
    mock.stop();
  }
});

test('fileSink.prepare(): a folder that takes no new file fails the backup with io before any request', async () => {
  const mock = await startMock();
  const dir = mkdtempSync(join(tmpdir(), 'mesbackup-ro-'));
  try {
    await mock.setScenario({});
    // The suites run as root, where permissions do not stop writes: the immutable attribute does.
    execFileSync('chattr', ['+i', dir]);
    const client = new Client({ envUrl: mock.base, token: 'admin-token' });
    let err;
    try {
      err = await client.backup('MESCDM', { sink: fileSink(dir) }).then(
        () => assert.fail('saved'),
        (e) => e,
      );
    } finally {
      execFileSync('chattr', ['-i', dir]);
    }
    assert.equal(err.kind, 'io', err.message);
    assert.match(err.message, /does not accept new files/);
    assert.deepEqual(await mock.log(), [], 'no request at all');
    assert.deepEqual(readdirSync(dir), [], 'no probe left behind');
    // A missing folder: refused unless asked to create it, then created owner-only.
    const missing = join(dir, 'a', 'b');
    await assert.rejects(fileSink(missing).prepare(), (e) => e.kind === 'io');
    await fileSink(missing, { create: true }).prepare();
    assert.equal(statSync(missing).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(missing), []);
  } finally {
    mock.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fileSink.open(): a package larger than the free space is refused before any byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesbackup-full-'));
  try {
    await assert.rejects(
      fileSink(dir).open('a.zip', 2 ** 52),
      (e) => e.kind === 'io' && /nothing was written/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), []);
    const sink = await fileSink(dir).open('a.zip', 1000);
    await sink.discard(null);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
