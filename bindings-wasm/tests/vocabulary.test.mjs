// One vocabulary: the names JavaScript shares with the CLI, Python and PowerShell, core's one rule
// for credentials (in Node the environment is looked at too), and the old option names kept one
// release: each still works and says so once with console.warn.
// Usage: node --test bindings-wasm/tests/vocabulary.test.mjs   (MESBACKUP_PKG=path to the built package)

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { root, startMock } from './mock.mjs';

const pkgDir = process.env.MESBACKUP_PKG ?? resolve(root, 'bindings-wasm/pkg');
const { Client, installerNameForDatabase, installerNames } = await import(pathToFileURL(join(pkgDir, 'index.js')).href);
const { fileSink } = await import(pathToFileURL(join(pkgDir, 'node.js')).href);

// core's mes::NO_CREDENTIALS, which every front end shows word for word.
const NO_CREDENTIALS =
  'no MES credentials: give a bearer token, or a user name and its personal access token (PAT). ' +
  'Looked for, in this order: a token given explicitly (CLI --token-file FILE, Python token=, JavaScript token, ' +
  'PowerShell -Token), a user and PAT given explicitly (Python user= and pat=, JavaScript user and pat, PowerShell ' +
  '-Credential), the environment variable MES_TOKEN, the environment variables MES_USER and MES_PAT. The CLI also ' +
  'asks on a terminal. For a test server without authentication, say so explicitly (CLI --no-auth, Python ' +
  'no_auth=True, JavaScript noAuth: true).';

let mock;
const tmp = mkdtempSync(join(tmpdir(), 'mesbackup-vocabulary-'));
before(async () => {
  mock = await startMock();
});
after(() => {
  mock.stop();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  for (const name of ['MES_TOKEN', 'MES_USER', 'MES_PAT']) delete process.env[name];
});

const FAST = { minPollDelayMs: 10, maxPollDelayMs: 100, retryDelayMs: 10 };
const rejection = (p) =>
  p.then(
    () => null,
    (e) => e,
  );
const thrown = (f) => {
  try {
    f();
    return null;
  } catch (e) {
    return e;
  }
};

/** Runs `f` with console.warn captured; returns [f's result, the warnings]. */
async function capturingWarnings(f) {
  const seen = [];
  const original = console.warn;
  console.warn = (...args) => seen.push(args.join(' '));
  try {
    return [await f(), seen];
  } finally {
    console.warn = original;
  }
}

test("credentials: none given is core's one sentence, before any request", async () => {
  await mock.setScenario({});
  const e = thrown(() => new Client({ envUrl: mock.base }));
  assert.equal(e?.kind, 'invalid_argument');
  assert.equal(e.message, NO_CREDENTIALS);
  assert.deepEqual(await mock.log(), [], 'nothing was sent');
});

test('credentials: Node looks at MES_TOKEN, then MES_USER + MES_PAT; explicit ones win; one source, one kind', async () => {
  await mock.setScenario({});
  process.env.MES_TOKEN = 'admin-token';
  const started = await new Client({ envUrl: mock.base, ...FAST }).start('MES');
  assert.equal(started.outcome, 'started');
  assert.equal((await mock.log())[0].auth, 'bearer');
  // An explicit user + PAT wins over MES_TOKEN.
  await mock.setScenario({});
  await new Client({ envUrl: mock.base, user: 'admin', pat: 'admin-pat', ...FAST }).start('MES');
  assert.equal((await mock.log())[0].auth, 'basic');
  process.env.MES_PAT = 'admin-pat';
  const e = thrown(() => new Client({ envUrl: mock.base }));
  assert.equal(e?.kind, 'invalid_argument');
  assert.match(e.message, /MES_TOKEN and MES_PAT/);
  assert.match(
    thrown(() => new Client({ envUrl: mock.base, token: 't', pat: 'p' }))?.message ?? '',
    /both a bearer token and a user/,
  );
  delete process.env.MES_TOKEN;
  process.env.MES_USER = 'admin';
  await mock.setScenario({});
  await new Client({ envUrl: mock.base, ...FAST }).start('MES');
  assert.equal((await mock.log())[0].auth, 'basic');
  assert.equal(
    new Client({ envUrl: mock.base, noAuth: true }).envUrl,
    mock.base,
    'noAuth: true wins over the environment',
  );
});

test('poll options: minPollDelayMs / maxPollDelayMs / retryDelayMs; the old names still work and warn once', async () => {
  await mock.setScenario({});
  // Each old name reaches the policy: a minimum over the maximum is refused by the core.
  const [errors, warnings] = await capturingWarnings(() =>
    [
      { pollMinMs: 5000, maxPollDelayMs: 100 },
      { pollMinMs: 5000, maxPollDelayMs: 100 }, // twice: warned once
      { minPollDelayMs: 100, pollMaxMs: 5 },
    ].map((options) => thrown(() => new Client({ envUrl: mock.base, token: 'admin-token', ...options }))),
  );
  for (const e of errors) {
    assert.equal(e?.kind, 'invalid_argument');
    assert.match(e.message, /maximum poll delay must not be shorter than the minimum/);
  }
  assert.deepEqual(warnings, [
    'mesbackup: pollMinMs is deprecated and will be removed in the next release: use minPollDelayMs',
    'mesbackup: pollMaxMs is deprecated and will be removed in the next release: use maxPollDelayMs',
  ]);
  // retryBaseMs: after a 503 the first retry waits 0.5-1 s by default, 5-10 ms with retryBaseMs: 10.
  await mock.setScenario({ faults: [{ method: 'POST', nth: 1, status: 503 }] });
  const [took, retryWarnings] = await capturingWarnings(async () => {
    const t0 = Date.now();
    const r = await new Client({ envUrl: mock.base, token: 'admin-token', retryBaseMs: 10 }).start('MES');
    assert.equal(r.outcome, 'started');
    return Date.now() - t0;
  });
  assert.ok(took < 450, `retryBaseMs: 10 was not used: the start took ${took} ms`);
  assert.deepEqual(retryWarnings, [
    'mesbackup: retryBaseMs is deprecated and will be removed in the next release: use retryDelayMs',
  ]);
  // The new names say nothing.
  await mock.setScenario({});
  const [, none] = await capturingWarnings(() =>
    new Client({ envUrl: mock.base, token: 'admin-token', ...FAST }).start('MES'),
  );
  assert.deepEqual(none, []);
});

test('installer names: system-specific by default, genericNames for the others; systemPrefix still works and warns once', async () => {
  const [names, warnings] = await capturingWarnings(() => [
    installerNameForDatabase('MESCDM', '11.3.0'),
    installerNameForDatabase('MESCDM', '11.3.0', { genericNames: true }),
    installerNameForDatabase('MESCDM', '11.3.0', { systemPrefix: false }),
    installerNameForDatabase('MESCDM', '11.3.0', { systemPrefix: true }),
    installerNames('MES', '11.3.0', false).MESODS,
    installerNames('MES', '11.3.0', { genericNames: true }).MESODS,
  ]);
  assert.deepEqual(names, [
    'MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip',
    'Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip',
    'Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip',
    'MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip',
    'Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip',
    'Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip',
  ]);
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0], /^mesbackup: systemPrefix is deprecated .*genericNames: true/);
});

test('backupSystem: version gives the system-specific names, genericNames the generic ones', {
  timeout: 60_000,
}, async () => {
  const client = new Client({ envUrl: mock.base, token: 'admin-token', ...FAST });
  for (const [options, prefix] of [
    [{}, 'MES.Cmf.'],
    [{ genericNames: true }, 'Cmf.'],
  ]) {
    await mock.setScenario({});
    const out = mkdtempSync(join(tmp, 'system-'));
    const results = await client.backupSystem('MES', { sink: fileSink(out), version: '11.3.0', ...options });
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results),
    );
    const zips = readdirSync(out).filter((n) => n.endsWith('.zip'));
    assert.equal(zips.length, 4, JSON.stringify(zips));
    assert.ok(
      zips.every((n) => n.startsWith(prefix)),
      JSON.stringify(zips),
    );
  }
  const e = await rejection(client.backupSystem('MES', { sink: fileSink(tmp), genericNames: true }));
  assert.equal(e?.kind, 'invalid_argument');
});
