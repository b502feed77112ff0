// verify()/inspect()/Verifier of the npm package (WASM) in Node: the real-engine ClickHouse fixtures,
// a damaged copy, and a package downloaded from mock-mes checked against its sidecar.
// Usage: node --test bindings-wasm/tests/verify.test.mjs   (MESBACKUP_PKG=path to the built package)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { root, startMock } from './mock.mjs';

const pkgDir = process.env.MESBACKUP_PKG ?? resolve(root, 'bindings-wasm/pkg');
const { Client, Verifier, verify, inspect, initVerifier } = await import(pathToFileURL(join(pkgDir, 'index.js')).href);
const { fileSink, verifyFile, inspectFile } = await import(pathToFileURL(join(pkgDir, 'node.js')).href);

const fixtures = resolve(root, 'tests/fixtures/clickhouse');
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'mesbackup-verify-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function checkInspection(ins, pkg) {
  const db = ins.databases.find((d) => d.name === expected.database);
  assert.ok(db, `database ${expected.database} in ${JSON.stringify(ins.databases.map((d) => d.name))}`);
  assert.equal(db.engine, expected.engine);
  assert.equal(ins.backupRoot ?? '', expected.packages[pkg].backup_root);
  const names = db.tables.map((t) => t.name).sort();
  assert.deepEqual(names, Object.keys(expected.tables).sort());
  let rows = 0;
  for (const [name, want] of Object.entries(expected.tables)) {
    const t = db.tables.find((x) => x.name === name);
    assert.equal(t.engineName ?? t.engine, want.engine, name);
    if (want.rows !== undefined) {
      assert.equal(t.rows, want.rows, `${name} rows`);
      rows += want.rows;
    }
    if (want.parts !== undefined) assert.equal(t.parts, want.parts, `${name} parts`);
  }
  assert.equal(db.rows, rows);
}

for (const pkg of Object.keys(expected.packages)) {
  test(`${pkg}: verifyFile OK, inspectFile matches expected.json`, async () => {
    const path = join(fixtures, pkg);
    let progress = 0;
    const r = await verifyFile(path, {
      onProgress: (p) => {
        progress = p.bytes;
        assert.ok(p.total > 0);
      },
    });
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.deepEqual(r.problems, []);
    assert.match(r.sha256, /^[0-9a-f]{64}$/);
    assert.equal(r.bytes, readFileSync(path).length);
    assert.equal(progress, r.bytes);
    assert.ok(r.filesChecked > 0 && r.manifest.files > 0);
    assert.equal(r.sidecar, null);
    checkInspection(r.inspection, pkg);
    const ins = await inspectFile(path);
    assert.equal(ins.ok, true);
    checkInspection(ins, pkg);
  });

  test(`${pkg}: a Blob, a ReadableStream and the Verifier class, in small chunks`, async () => {
    const bytes = readFileSync(join(fixtures, pkg));
    const viaBlob = await verify(new Blob([bytes]));
    assert.equal(viaBlob.ok, true);
    const viaFileBlob = await inspect(await openAsBlob(join(fixtures, pkg)));
    checkInspection(viaFileBlob, pkg);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < bytes.length; i += 777) c.enqueue(bytes.subarray(i, i + 777));
        c.close();
      },
    });
    const viaStream = await verify(stream, { expectedSha256: viaBlob.sha256.toUpperCase() });
    assert.equal(viaStream.ok, true);
    const v = new Verifier({ expectedSha256: viaBlob.sha256 });
    for (let i = 0; i < bytes.length; i += 4093) v.feed(bytes.subarray(i, i + 4093));
    assert.equal(v.bytesFed, bytes.length);
    const { report, inspection } = v.finish();
    assert.equal(report.ok, true);
    checkInspection(inspection, pkg);
    assert.throws(
      () => v.feed(bytes),
      (e) => e.kind === 'invalid_argument',
    );
  });
}

test('one flipped byte: not ok, the problem names the file; throwOnError throws kind integrity', async () => {
  const bytes = Buffer.from(readFileSync(join(fixtures, 'mesfix_stored.zip')));
  // Flip a byte inside the stored data of a data file (found by name in the local headers).
  const sig = Buffer.from('PK\x03\x04', 'latin1');
  let h = bytes.indexOf(sig);
  while (
    h >= 0 &&
    !bytes
      .subarray(h + 30, h + 30 + bytes.readUInt16LE(h + 26))
      .toString()
      .endsWith('/data.bin')
  )
    h = bytes.indexOf(sig, h + 4);
  assert.ok(h >= 0);
  const nameLen = bytes.readUInt16LE(h + 26);
  const extraLen = bytes.readUInt16LE(h + 28);
  const entry = bytes.subarray(h + 30, h + 30 + nameLen).toString();
  assert.match(entry, /data\.bin$/);
  const dataAt = h + 30 + nameLen + extraLen;
  bytes[dataAt + 3] ^= 0x5a;
  const path = join(tmp, 'damaged.zip');
  writeFileSync(path, bytes);
  const r = await verifyFile(path);
  assert.equal(r.ok, false);
  assert.ok(r.problems.length > 0);
  for (const p of r.problems) {
    assert.equal(typeof p.kind, 'string');
    assert.equal(typeof p.message, 'string');
  }
  assert.ok(
    r.problems.some((p) => p.message.includes(entry)),
    `a problem names ${entry}: ${JSON.stringify(r.problems)}`,
  );
  await assert.rejects(verifyFile(path, { throwOnError: true }), (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.kind, 'integrity');
    assert.ok(e.message.includes(entry), e.message);
    assert.equal(e.report.ok, false);
    return true;
  });
  await assert.rejects(verify(new Blob([bytes]), { throwOnError: true }), (e) => e.kind === 'integrity');
});

test('a wrong expected SHA-256 is a problem; a malformed one is invalid_argument; abort cancels', async () => {
  const path = join(fixtures, 'mesfix_deflated.zip');
  const r = await verifyFile(path, { expectedSha256: '0'.repeat(64) });
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.problems.map((p) => p.kind),
    ['sha256_mismatch'],
  );
  assert.throws(
    () => new Verifier({ expectedSha256: 'xyz' }),
    (e) => e.kind === 'invalid_argument',
  );
  const c = new AbortController();
  c.abort();
  await assert.rejects(verifyFile(path, { signal: c.signal }), (e) => e.kind === 'cancelled');
  await assert.rejects(verify('some/path.zip'), (e) => e.kind === 'invalid_argument');
});

test('a package downloaded from mock-mes verifies and matches its sidecar', async () => {
  const mock = await startMock();
  try {
    const client = new Client({ envUrl: mock.base, token: 'admin-token', minPollDelayMs: 10 });
    const out = join(tmp, 'out');
    const saved = await client.backup('MESCDM', {
      sink: fileSink(out, { create: true }),
      fileName: 'MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip',
    });
    const path = join(out, saved.fileName);
    const r = await verifyFile(path, { throwOnError: true });
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.equal(r.sidecar, `${path}.mesbackup.json`);
    assert.equal(r.sha256, saved.sha256);
    assert.equal(r.bytes, saved.size);
    assert.ok(r.inspection.databases.some((d) => d.name === 'MESCDM'));
    // The sidecar's SHA-256 is enforced: a sidecar saying otherwise fails.
    const side = JSON.parse(readFileSync(`${path}.mesbackup.json`, 'utf8'));
    writeFileSync(`${path}.mesbackup.json`, JSON.stringify({ ...side, sha256: 'f'.repeat(64) }));
    const bad = await verifyFile(path);
    assert.equal(bad.ok, false);
    assert.equal(bad.problems[0].kind, 'sha256_mismatch');
  } finally {
    mock.stop();
  }
});

test('the verifier is a second module: new Verifier() first thing in Node (sync), Verifier.create(), initVerifier()', async () => {
  const index = pathToFileURL(join(pkgDir, 'index.js')).href;
  // A fresh process whose first verifier use is the synchronous constructor.
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { Verifier } = await import(${JSON.stringify(index)}); const v = new Verifier(); v.feed(new Uint8Array([1, 2, 3])); const { report } = v.finish(); console.log(JSON.stringify({ ok: report.ok, bytes: v.bytesFed }));`,
    ],
    { encoding: 'utf8' },
  );
  assert.deepEqual(JSON.parse(out.trim()), { ok: false, bytes: 0 });
  await initVerifier();
  const v = await Verifier.create({ expectedSha256: null });
  v.feed(new Uint8Array(10));
  assert.equal(v.bytesFed, 10);
  assert.equal(v.finish().report.ok, false);
  await assert.rejects(Verifier.create({ expectedSha256: 'xyz' }), (e) => e.kind === 'invalid_argument');
});

test("hostile packages (entries that would leave the extraction folder) are never OK, with the core's problem kind", async () => {
  const out = join(tmp, 'hostile');
  execFileSync('python3', [resolve(root, 'tests/fixtures/hostile/make_hostile.py'), out, join(tmp, 'escape')]);
  const cases = JSON.parse(readFileSync(join(out, 'cases.json'), 'utf8'));
  assert.ok(cases.length >= 10, `${cases.length} cases`);
  for (const c of cases) {
    const r = await verifyFile(c.file);
    assert.equal(r.ok, false, c.case);
    const kinds = r.problems.map((p) => p.kind);
    assert.ok(kinds.includes(c.problem), `${c.case}: ${c.problem} in ${kinds}`);
    const unsafe = r.problems.find((p) => p.kind === 'unsafe_name' || p.kind === 'unsafe_manifest_path');
    if (unsafe) assert.equal(typeof unsafe.reason, 'string', `${c.case}: the reason is given`);
    await assert.rejects(verifyFile(c.file, { throwOnError: true }), (e) => e.kind === 'integrity');
  }
});
