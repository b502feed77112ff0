// Runs every tests/scenarios/*.json through the npm package (WASM) against mock-mes, with the same
// expectations as the Rust runner (tests/runner-rust/src/lib.rs): outcome, GUID, the exact set of files
// in the output folder (hidden ones included) with size and SHA-256, peak memory, requests seen.
// Usage: node --test bindings-wasm/tests/scenarios.test.mjs   (MESBACKUP_PKG=path to the built package)

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { root, startMock } from './mock.mjs';

const pkgDir = process.env.MESBACKUP_PKG ?? resolve(root, 'bindings-wasm/pkg');
const { Client } = await import(pathToFileURL(join(pkgDir, 'index.js')).href);
const { fileSink } = await import(pathToFileURL(join(pkgDir, 'node.js')).href);

const scenarioDir = resolve(root, 'tests/scenarios');
const only = process.env.SCENARIO ? new Set(process.env.SCENARIO.split(',')) : null;
const skipSlow = process.env.SKIP_SLOW === '1';
const scenarios = readdirSync(scenarioDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f.slice(0, -5), ...JSON.parse(readFileSync(join(scenarioDir, f), 'utf8')) }))
  .filter((s) => !only || only.has(s.name));

let mock;
before(async () => {
  mock = await startMock();
});
after(() => mock?.stop());

function sha256File(path) {
  return new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (d) => h.update(d))
      .on('end', () => ok(h.digest('hex')))
      .on('error', fail);
  });
}

async function listing(dir) {
  const out = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    out[name] = { size: statSync(p).size, sha256: await sha256File(p) };
  }
  return out;
}

/** Peak RSS of this process, from the kernel (VmHWM), resettable through clear_refs. */
const peakRss = {
  readKib() {
    try {
      return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    } catch {
      return null;
    }
  },
};
function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function clientFor(step, env) {
  const o = step.options ?? {};
  const min = o.min_poll_ms ?? 10;
  const a = step.auth ?? {};
  const creds =
    a.token != null
      ? { token: a.token }
      : a.user != null && a.pat != null
        ? { user: a.user, pat: a.pat }
        : { noAuth: true };
  return new Client({
    envUrl: env,
    ...creds,
    minPollDelayMs: min,
    maxPollDelayMs: Math.max(o.max_poll_ms ?? 200, min),
    retryDelayMs: min,
    timeoutMs: o.timeout_ms ?? 30_000,
    stallTimeoutMs: o.stall_timeout_ms ?? 10_000,
    requestTimeoutMs: 10_000,
    restartBudget: o.restart_budget ?? 0,
    speedLimit: o.speed_limit ?? undefined,
    speedTimeMs: o.speed_time_ms ?? undefined,
    downloadTimeoutMs: o.download_timeout_ms ?? undefined,
    maxSize: o.max_size ?? undefined,
  });
}

const failed = (e) => ({ outcome: e.kind ?? `untyped error: ${e}`, guid: e.guid ?? null, message: e.message });
function toResult(r) {
  if (r.outcome === 'saved' || r.outcome === 'started') return { outcome: 'ok', guid: r.guid };
  return { outcome: r.outcome, guid: r.guid };
}

/**
 * `"out_dir": "read_only"`: the folder takes no new file during the step (chattr +i: the suites run
 * as root, where permissions do not stop writes). Never skipped: failing to set it fails the test.
 * Returns the function that undoes it.
 */
function readOnly(step, out) {
  if (step.out_dir == null) return () => {};
  assert.equal(step.out_dir, 'read_only', `unknown out_dir ${step.out_dir}`);
  try {
    execFileSync('chattr', ['+i', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new Error(
      `cannot make ${out} read-only with chattr +i (needs Linux, root and a file system with attributes): ${e.stderr ?? e.message}`,
    );
  }
  return () => {
    try {
      execFileSync('chattr', ['-i', out]);
    } catch {
      /* reported by the clean-up */
    }
  };
}

async function runStep(step, env, previousGuid, out) {
  let client;
  try {
    client = clientFor(step, env);
  } catch (e) {
    return failed(e);
  }
  const guid = step.guid === '$guid' ? previousGuid : step.guid;
  const sink = fileSink(out);
  const o = step.options ?? {};
  try {
    switch (step.op) {
      case 'backup_system': {
        const results = await client.backupSystem(step.system ?? 'MES', { sink });
        const bad = results.find((r) => !r.ok);
        return bad ? failed(bad.error) : { outcome: 'ok' };
      }
      case 'backup':
        return toResult(
          await client.backup(step.database, {
            sink,
            fileName: o.file_name ?? undefined,
            overwrite: o.overwrite,
            jitterSeed: 42,
          }),
        );
      case 'start':
        return toResult(await client.start(step.database, { jitterSeed: 42 }));
      case 'download':
        return toResult(
          await client.download(guid, {
            sink,
            fileName: o.file_name ?? undefined,
            overwrite: o.overwrite,
            jitterSeed: 42,
          }),
        );
      case 'download_if_ready':
        return toResult(
          await client.downloadIfReady(guid, {
            sink,
            fileName: o.file_name ?? undefined,
            overwrite: o.overwrite,
            jitterSeed: 42,
          }),
        );
      default:
        return { outcome: `unknown op ${step.op}` };
    }
  } catch (e) {
    return failed(e);
  }
}

async function checkStep(step, result, out) {
  const problems = [];
  const e = step.expect;
  if (result.outcome !== e.outcome)
    problems.push(`outcome: expected ${e.outcome}, got ${result.outcome} (${result.message ?? ''})`);
  if (e.guid && result.guid !== e.guid) problems.push(`guid: expected ${e.guid}, got ${result.guid}`);
  for (const part of e.message_contains ?? []) {
    if (!(result.message ?? '').includes(part))
      problems.push(`message: expected it to contain ${JSON.stringify(part)}, got ${JSON.stringify(result.message)}`);
  }
  if (e.files) {
    const list = await listing(out);
    const want = Object.keys(e.files).sort();
    const got = Object.keys(list).sort();
    if (JSON.stringify(want) !== JSON.stringify(got))
      problems.push(`files: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    for (const [name, fe] of Object.entries(e.files)) {
      const f = list[name];
      if (!f) continue;
      if (fe.size != null && fe.size !== f.size) problems.push(`${name}: size expected ${fe.size}, got ${f.size}`);
      if (fe.sha256 != null && fe.sha256 !== f.sha256)
        problems.push(`${name}: sha256 expected ${fe.sha256}, got ${f.sha256}`);
    }
  }
  if (e.max_rss_growth_mib != null) {
    if (result.rssGrowthMib == null) problems.push('memory: could not measure peak RSS (no /proc/self/clear_refs)');
    else if (result.rssGrowthMib > e.max_rss_growth_mib)
      problems.push(`memory: peak grew by ${result.rssGrowthMib} MiB, limit ${e.max_rss_growth_mib} MiB`);
  }
  return problems;
}

function checkRequests(expect, log) {
  const problems = [];
  const summary = log.map((r) => `${r.method} ${r.path} ${r.status} ${r.host}`);
  if (expect.exact) {
    if (expect.exact.length !== log.length)
      problems.push(`requests: expected ${expect.exact.length} entries, got ${log.length}: ${JSON.stringify(summary)}`);
    expect.exact.forEach((want, i) => {
      const got = log[i] ?? {};
      for (const [field, value] of Object.entries(want)) {
        if (JSON.stringify(got[field] ?? null) !== JSON.stringify(value))
          problems.push(
            `request #${i} ${field}: expected ${JSON.stringify(value)}, got ${JSON.stringify(got[field])} (${JSON.stringify(summary)})`,
          );
      }
    });
  }
  for (const [key, want] of Object.entries(expect.counts ?? {})) {
    const got = log.filter((r) => `${r.method} ${r.status}` === key).length;
    if (got !== want) problems.push(`requests "${key}": expected ${want}, got ${got} (${JSON.stringify(summary)})`);
  }
  if (expect.min_gap_ms_between_gets != null) {
    const times = log.filter((r) => r.method === 'GET').map((r) => r.at_ms);
    for (let i = 1; i < times.length; i++) {
      if (times[i] - times[i - 1] < expect.min_gap_ms_between_gets)
        problems.push(
          `GETs ${times[i] - times[i - 1]} ms apart, expected at least ${expect.min_gap_ms_between_gets} ms`,
        );
    }
  }
  return problems;
}

for (const s of scenarios) {
  const slow = (s.tags ?? []).includes('slow');
  test(s.name, { skip: slow && skipSlow ? 'SKIP_SLOW=1' : false, timeout: 600_000 }, async () => {
    await mock.setScenario(s.server);
    const prefix = s.server?.path_prefix ?? '';
    const out = mkdtempSync(join(tmpdir(), 'mesbackup-node-'));
    const problems = [];
    let previous = null;
    try {
      for (const [i, step] of s.steps.entries()) {
        const env = `${mock.base}${prefix}${step.env_suffix ?? ''}`;
        for (const [name, text] of Object.entries(step.existing_files ?? {})) writeFileSync(join(out, name), text);
        global.gc?.();
        const measured = resetPeak();
        const before = peakRss.readKib();
        const unlock = readOnly(step, out);
        let result;
        try {
          result = await runStep(step, env, previous, out);
        } finally {
          unlock();
        }
        const afterKib = peakRss.readKib();
        if (measured && before != null && afterKib != null)
          result.rssGrowthMib = Math.floor(Math.max(0, afterKib - before) / 1024);
        for (const p of await checkStep(step, result, out)) problems.push(`step ${i} (${step.op}): ${p}`);
        if (result.guid) previous = result.guid;
      }
      if (s.expect_requests) problems.push(...checkRequests(s.expect_requests, await mock.log()));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    assert.deepEqual(problems, [], `${s.description}\n  ${problems.join('\n  ')}`);
  });
}
