// Node's fileSink writes privately, exactly (not through the umask): files 0o600, the folders it
// creates 0o700; `fileMode` / `dirMode` give exactly the modes asked for. Its temporary files end
// with `.mesbackup-node-partial` (Node cannot lock them; the CLI and Python only remove
// `.mesbackup-partial` files whose lock they can take).
// Usage: node --test bindings-wasm/tests/file_modes.test.mjs   (MESBACKUP_PKG=path to the built package)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
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

/** Mounts a fresh FAT16 image with fusefat (FUSE; the kernel here has no vfat driver): a USB disk or
 * an SMB share without Unix extensions, where chmod is refused and every file has the mount's mode. */
function mountFat(options) {
  const base = mkdtempSync(join(tmp, 'fat-'));
  const image = join(base, 'volume.img');
  const mountpoint = join(base, 'mnt');
  mkdirSync(mountpoint);
  writeFileSync(image, '');
  truncateSync(image, 64 << 20);
  execFileSync('mkfs.vfat', [image], { stdio: 'ignore' });
  execFileSync('fusefat', ['-o', options, image, mountpoint], { stdio: 'ignore' });
  return { mountpoint, unmount: () => execFileSync('fusermount', ['-u', mountpoint], { stdio: 'ignore' }) };
}

const hasFusefat = (() => {
  try {
    execFileSync('fusefat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return e.code !== 'ENOENT';
  }
})();

test("fileSink on FAT (chmod refused): the mount's mode is kept when it shows the files to nobody else, refused before anything is sent otherwise", {
  timeout: 60_000,
  skip: hasFusefat ? false : 'fusefat is not installed (scripts/suites/40-wasm.sh installs it)',
}, async () => {
  await mock.setScenario({ payload: { size: 100_000, seed: 2 } });
  const privateFat = mountFat('rw+'); // every file and folder 0700
  try {
    await client().backup('MESCDM', { sink: fileSink(join(privateFat.mountpoint, 'out'), { create: true }) });
    assert.equal(lstatSync(join(privateFat.mountpoint, 'out', 'MESCDM.zip')).size, 100_000);
  } finally {
    privateFat.unmount();
  }
  const wideFat = mountFat('rw+,umask=022'); // every file 0755: readable by everyone
  try {
    const sent = (await mock.log()).length;
    await assert.rejects(
      client().backup('MESCDM', { sink: fileSink(wideFat.mountpoint) }),
      (e) => e.kind === 'io' && /0755/.test(e.message) && /fmask/.test(e.message),
    );
    assert.equal((await mock.log()).length, sent, 'nothing is sent');
    assert.deepEqual(readdirSync(wideFat.mountpoint), []);
    await client().backup('MESCDM', { sink: fileSink(wideFat.mountpoint, { fileMode: '0644' }) });
    assert.equal(lstatSync(join(wideFat.mountpoint, 'MESCDM.zip')).size, 100_000);
  } finally {
    wideFat.unmount();
  }
});
