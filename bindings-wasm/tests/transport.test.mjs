// Transport failures of the WASM package in Node that no scenario can stage (the server is not there):
// a refused connection certainly sent nothing, so the POST is retried like natively (reqwest's
// is_connect), and the error says the MES could not be reached, not that a backup may have started.
// Usage: node --test bindings-wasm/tests/transport.test.mjs   (MESBACKUP_PKG=path to the built package)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './mock.mjs';

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
  const client = new Client({ envUrl: `http://127.0.0.1:${port}`, token: 'admin-token', retryBaseMs: 10, pollMinMs: 10, maxConsecutiveFailures: 3 });
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
