// The component transpiled by jco, in Node: verify (real-engine fixtures, a damaged copy, hostile
// packages) and naming (names, package names, the folder check), each compared with the native
// CLI's --json answer for the same input. scripts/suites/45-component.sh transpiles it and sets
// MESBACKUP_COMPONENT_JS (the generated module) and MESBACKUP_CLI (the native `mesbackup`).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const modulePath = process.env.MESBACKUP_COMPONENT_JS;
const cli = process.env.MESBACKUP_CLI;
assert.ok(modulePath && cli, 'MESBACKUP_COMPONENT_JS and MESBACKUP_CLI must be set (scripts/suites/45-component.sh)');
const { naming, types, verify } = await import(modulePath);
const fixtures = join(root, 'tests/fixtures/clickhouse');
const tmp = mkdtempSync(join(tmpdir(), 'mesbackup-component-'));
const CHUNK = 64 * 1024;

function cliJson(...args) {
  const done = spawnSync(cli, [...args, '--json'], { encoding: 'utf8' });
  return done.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

function verifyFile(path, expectedSha256) {
  const v = verify.Verifier.create(expectedSha256);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      v.feed(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return v.finish();
}

const snake = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
// A jco value in the core's serde shape: snake_case names, numbers for u64, null for an absent option.
function plain(value) {
  if (typeof value === 'bigint') return Number(value);
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), plain(v)]));
  }
  return value;
}

function reportAsCli(r) {
  const { error, ...rest } = plain(r);
  assert.equal(error?.kind ?? null, r.ok ? null : 'integrity');
  return { ...rest, problems: r.problems.map((p) => JSON.parse(p.json)) };
}

function nativeReport(path) {
  const events = cliJson('verify', path).filter((e) => e.event === 'verified');
  assert.equal(events.length, 1);
  return events[0].report;
}

for (const name of ['mesfix_stored.zip', 'mesfix_deflated.zip']) {
  test(`${name}: verified and inspected as the CLI does, and as expected.json says`, () => {
    const path = join(fixtures, name);
    const { report, inspection } = verifyFile(path);
    assert.equal(report.ok, true);
    assert.ok(report.filesChecked > 0n && report.partsChecked > 0n);
    assert.deepEqual(reportAsCli(report), nativeReport(path));
    const inspected = cliJson('inspect', path).find((e) => e.event === 'inspected');
    assert.deepEqual(plain(inspection), inspected.inspection);
    const exp = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8'));
    assert.deepEqual(
      inspection.databases.map((d) => d.name),
      [exp.database],
    );
    assert.equal(inspection.backupRoot, exp.packages[name].backup_root);
    assert.equal(inspection.rows, BigInt(Object.values(exp.tables).reduce((n, t) => n + (t.rows ?? 0), 0)));
  });
}

test('a flipped byte is named as the CLI names it; a wrong sidecar hash is a problem', () => {
  const data = readFileSync(join(fixtures, 'mesfix_stored.zip'));
  // A byte in the middle of the file: inside some entry's data (stored, not compressed).
  data[Math.floor(data.length / 3)] ^= 0xff;
  const bad = join(tmp, 'bad.zip');
  writeFileSync(bad, data);
  const { report } = verifyFile(bad);
  assert.equal(report.ok, false);
  assert.deepEqual(reportAsCli(report), nativeReport(bad));
  const wrong = verifyFile(join(fixtures, 'mesfix_deflated.zip'), '0'.repeat(64)).report;
  assert.deepEqual(
    wrong.problems.map((p) => p.kind),
    ['sha256_mismatch'],
  );
  assert.throws(
    () => verify.Verifier.create('xyz'),
    (e) => e.payload.kind === 'invalid-argument',
  );
});

test("hostile packages are never OK, with the core's problem kind, as the CLI reports them", () => {
  const out = join(tmp, 'hostile');
  execFileSync('python3', [join(root, 'tests/fixtures/hostile/make_hostile.py'), out, join(tmp, 'escape')]);
  const cases = JSON.parse(readFileSync(join(out, 'cases.json'), 'utf8'));
  assert.ok(cases.length >= 10, `${cases.length} cases`);
  for (const c of cases) {
    const { report } = verifyFile(c.file);
    assert.equal(report.ok, false, c.case);
    assert.ok(
      report.problems.some((p) => p.kind === c.problem),
      `${c.case}: ${c.problem}`,
    );
    assert.deepEqual(reportAsCli(report), nativeReport(c.file), c.case);
  }
});

test('installer names as the CLI gives them', () => {
  const [event] = cliJson('names', '--system', 'MES', '--version', '11.3.0');
  const dbs = naming.systemDatabases('MES');
  assert.deepEqual(
    dbs.map((d) => d.database),
    event.packages.map((p) => p.database),
  );
  dbs.forEach((d, i) => {
    assert.equal(naming.installerNameForDatabase(d.database, '11.3.0', false), event.packages[i].system_specific);
    assert.equal(naming.installerNameForDatabase(d.database, '11.3.0', true), event.packages[i].generic);
    assert.equal(naming.installerPackageName(d.kind, '11.3.0', undefined), event.packages[i].generic);
  });
  assert.deepEqual(naming.parseDatabaseName('MESCDM', undefined), { system: 'MES', kind: 'cdm' });
  assert.throws(
    () => naming.systemDatabases('bad name!'),
    (e) => e.payload.kind === 'invalid-argument' && types.kindCode(e.payload.kind) === 'invalid_argument',
  );
  const near = (() => {
    try {
      naming.parsePackageName('Cmf.ClickHouse.FullBackup.ODS.11.3.0 (1).zip');
    } catch (e) {
      return e.payload;
    }
  })();
  assert.equal(near.reason, 'extra_suffix');
  assert.equal(near.expected, 'Cmf.ClickHouse.FullBackup.ODS.11.3.0.zip');
});

test('the folder check as the CLI makes it', () => {
  const dir = join(tmp, 'folder');
  mkdirSync(dir);
  const names = [
    'MES.Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip',
    'Cmf.ClickHouse.FullBackup.CDM.11.3.0.zip',
    'Cmf.ClickHouse.FullBackup.ODS.11.3.0 (1).zip',
    'Cmf.ClickHouse.FullBackup.DWH.11.2.0.zip',
    'mes.cmf.clickhouse.fullbackup.online.11.3.0.zip',
    'notes.txt',
  ];
  for (const n of names) writeFileSync(join(dir, n), '');
  const [event] = cliJson('check-folder', dir, '--system', 'MES', '--version', '11.3.0');
  const r = naming.checkFolder(names, 'MES', '11.3.0');
  const kind = { online: 'Online', cdm: 'CDM', ods: 'ODS', dwh: 'DWH' };
  const { complete, ...report } = plain(r);
  assert.equal(complete, event.complete);
  report.kinds = report.kinds.map((k) => ({ ...k, kind: kind[k.kind] }));
  report.missing = report.missing.map((k) => kind[k]);
  assert.deepEqual(report, event.report);
  assert.ok(r.nearMisses.length > 0 && r.ignored.length > 0);
});
