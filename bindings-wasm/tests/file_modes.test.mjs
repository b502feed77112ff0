// Node's fileSink writes privately, exactly (not through the umask): files 0o600, the folders it
// creates 0o700; `fileMode` / `dirMode` give exactly the modes asked for. Its temporary files end
// with `.mesbackup-node-partial` (Node cannot lock them; the CLI and Python only remove
// `.mesbackup-partial` files whose lock they can take).
// Usage: node --test bindings-wasm/tests/file_modes.test.mjs   (MESBACKUP_PKG=path to the built package)

import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { root, startMock } from './mock.mjs';

const pkgDir = process.env.MESBACKUP_PKG ?? resolve(root, 'bindings-wasm/pkg');
const { Client } = await import(pathToFileURL(join(pkgDir, 'index.js')).href);
const { fileSink, PARTIAL_SUFFIX } = await import(pathToFileURL(join(pkgDir, 'node.js')).href);

let mock;
const tmp = mkdtempSync(join(tmpdir(), 'mesbackup-modes-'));
before(async () => {
  mock = await startMock();
});
after(() => {
  mock.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const modeOf = (path) => lstatSync(path).mode & 0o7777;

/** Every file and folder under `dir` (not `dir` itself): [relative name, mode, isDirectory]. */
function modesUnder(dir, prefix = '') {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = lstatSync(path);
    out.push([prefix + name, st.mode & 0o7777, st.isDirectory()]);
    if (st.isDirectory()) out.push(...modesUnder(path, `${prefix}${name}/`));
  }
  return out;
}

function assertModes(dir, file, folder) {
  const all = modesUnder(dir);
  assert.ok(all.length > 0);
  for (const [name, mode, isDir] of all) {
    const want = isDir ? folder : file;
    assert.equal(mode, want, `${name}: ${mode.toString(8)}, expected ${want.toString(8)}; all: ${JSON.stringify(all)}`);
  }
}

/** Runs `fn` with the process umask set to `mask`. */
async function underUmask(mask, fn) {
  const before = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(before);
  }
}

const client = () => new Client({ envUrl: mock.base, token: 'admin-token', minPollDelayMs: 10 });

test('fileSink: packages, sidecars, temporary files, kept diagnostics and created folders are private by default', {
  timeout: 60_000,
}, async () => {
  const base = mkdtempSync(join(tmp, 'default-'));
  const out = join(base, 'new', 'backups');
  await underUmask(0o022, async () => {
    await mock.setScenario({
      payload: { size: 600_000, seed: 3 },
      download: { drip: { chunk: 16384, interval_ms: 10 } },
    });
    let temp = null;
    await client().backup('MESCDM', {
      sink: fileSink(out, { create: true }),
      onProgress: () => {
        temp ??= readdirSync(out)
          .map((n) => [n, modeOf(join(out, n))])
          .find(([n]) => n.endsWith(PARTIAL_SUFFIX));
      },
    });
    assert.ok(temp, 'a temporary file was seen while downloading');
    assert.ok(temp[0].endsWith('.mesbackup-node-partial'), temp[0]);
    assert.equal(temp[1], 0o600, 'the temporary file');
    await mock.setScenario({ ready_body: { content_type: 'text/html', body: '<html>502 Bad Gateway</html>' } });
    const err = await client()
      .backup('MESDWH', { sink: fileSink(out, { create: true }) })
      .then(
        () => null,
        (e) => e,
      );
    assert.equal(err?.kind, 'unexpected_response', err?.message);
  });
  const names = readdirSync(out).sort();
  assert.equal(names.length, 3, JSON.stringify(names));
  assert.ok(
    names.some((n) => n.endsWith('.not-a-package.html')),
    JSON.stringify(names),
  );
  assertModes(base, 0o600, 0o700);
});

test('fileSink: fileMode and dirMode are applied exactly, and an existing folder keeps its mode', {
  timeout: 60_000,
}, async () => {
  const base = mkdtempSync(join(tmp, 'wide-'));
  await mock.setScenario({ payload: { size: 50_000, seed: 4 } });
  await underUmask(0o077, async () => {
    await client().backup('MESODS', {
      sink: fileSink(join(base, 'group', 'backups'), { create: true, fileMode: '0640', dirMode: 0o750 }),
    });
  });
  assertModes(base, 0o640, 0o750);
  const existing = join(tmp, 'existing');
  mkdirSync(existing);
  chmodSync(existing, 0o755);
  await underUmask(0o022, () => client().backup('MES', { sink: fileSink(existing, { create: true }) }));
  assert.equal(modeOf(existing), 0o755);
  assertModes(existing, 0o600, 0o700);
});

test('fileSink: a mode that would expose or lose data is refused at once', () => {
  for (const [options, name] of [
    [{ fileMode: '0666' }, 'fileMode'],
    [{ fileMode: 'rw-r-----' }, 'fileMode'],
    [{ dirMode: 0o777 }, 'dirMode'],
  ]) {
    assert.throws(
      () => fileSink(join(tmp, 'never'), options),
      (e) => e.kind === 'invalid_argument' && e.message.startsWith(name),
      JSON.stringify(options),
    );
  }
});
