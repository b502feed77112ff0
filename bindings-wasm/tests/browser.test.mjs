// The panel and the package in real headless Chromium (Debian's /usr/bin/chromium via puppeteer-core),
// against mock-mes serving the panel under /panel/ and the API on the same origin. Packages are saved
// through the panel's File System Access sink into the origin private file system (?dest=opfs), then
// read back and compared with the scenario files' expectations; the mock's log is checked as well.
// Needs bindings-wasm/build.sh to have assembled bindings-wasm/dist/extension.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { root, startMock } from './mock.mjs';

const panelDir = process.env.MESBACKUP_PANEL ?? resolve(root, 'bindings-wasm/dist/extension');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const artifacts = resolve(root, 'tests/artifacts');
const scenario = (name) => JSON.parse(readFileSync(resolve(root, 'tests/scenarios', `${name}.json`), 'utf8'));

let mock, browser, page;
before(async () => {
  assert.ok(existsSync(join(panelDir, 'panel.html')), `${panelDir} is missing: run bindings-wasm/build.sh`);
  mock = await startMock(['--static', panelDir]);
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-extensions',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-features=Translate',
    ],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 760, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => console.error('page error:', e.message));
});
after(async () => {
  await browser?.close();
  mock?.stop();
});

async function openPanel() {
  await page.goto(`${mock.base}/panel/panel.html?dest=opfs&fast=1`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  await page.evaluate(async () => {
    const dir = await navigator.storage.getDirectory();
    for await (const name of dir.keys()) await dir.removeEntry(name, { recursive: true });
  });
}

async function setField(selector, value) {
  await page.$eval(
    selector,
    (el, v) => {
      el.value = v;
      el.dispatchEvent(new Event('change'));
    },
    value,
  );
}

/** Clicks a button of the panel and waits until the run is over. */
async function runPanel(button, { whileRunning } = {}) {
  const done = await page.evaluate(() => Number(document.body.dataset.done ?? 0));
  await page.click(button);
  if (whileRunning) await whileRunning();
  await page.waitForFunction((n) => Number(document.body.dataset.done ?? 0) > n, { timeout: 60_000 }, done);
  return page.$$eval('#rows tbody tr', (trs) =>
    trs.map((tr) => ({
      db: tr.dataset.db,
      status: tr.dataset.status,
      fileName: tr.dataset.fileName ?? null,
      verified: tr.dataset.verified ?? null,
      text: tr.textContent,
    })),
  );
}

async function opfsListing() {
  return page.evaluate(async () => {
    const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
    const out = {};
    const dir = await navigator.storage.getDirectory();
    for await (const [name, h] of dir.entries()) {
      const f = await h.getFile();
      out[name] = { size: f.size, sha256: hex(await crypto.subtle.digest('SHA-256', await f.arrayBuffer())) };
    }
    return out;
  });
}

function checkFiles(expected, listing) {
  assert.deepEqual(Object.keys(listing).sort(), Object.keys(expected).sort(), 'files in the destination folder');
  for (const [name, fe] of Object.entries(expected)) {
    if (fe.size != null) assert.equal(listing[name].size, fe.size, `${name} size`);
    if (fe.sha256 != null) assert.equal(listing[name].sha256, fe.sha256, `${name} sha256`);
  }
}

function checkLog(expect, log) {
  const summary = JSON.stringify(log.map((r) => `${r.method} ${r.status} ${r.host} ${r.auth}`));
  if (expect.exact) {
    assert.equal(log.length, expect.exact.length, `request count ${summary}`);
    expect.exact.forEach((want, i) => {
      for (const [k, v] of Object.entries(want))
        assert.deepEqual(log[i][k] ?? null, v, `request #${i} ${k} ${summary}`);
    });
  }
  for (const [key, want] of Object.entries(expect.counts ?? {})) {
    assert.equal(log.filter((r) => `${r.method} ${r.status}` === key).length, want, `${key} ${summary}`);
  }
}

/** Runs a one-database scenario file through the panel and checks what the Node runner checks. */
async function panelScenario(name, { token } = {}) {
  const s = scenario(name);
  const step = s.steps[0];
  await mock.setScenario(s.server);
  await openPanel();
  await setField('#token', token ?? step.auth.token);
  await page.select('#database', step.database);
  const rows = await runPanel('#one');
  const status = rows[0].status;
  if (step.expect.outcome === 'ok') assert.equal(status, 'saved', rows[0].text);
  else assert.equal(status, `failed:${step.expect.outcome}`, rows[0].text);
  if (step.expect.files) checkFiles(step.expect.files, await opfsListing());
  else if (step.expect.outcome !== 'ok') assert.deepEqual(await opfsListing(), {}, 'nothing left behind');
  if (s.expect_requests) checkLog(s.expect_requests, await mock.log());
  return rows;
}

/**
 * Runs a one-step scenario file through the package's `Client` in the page (not the panel, whose
 * options are fixed), the step's options mapped as in the Node runner, saving into the origin
 * private file system through `directorySink`; checks what the other runners check.
 */
async function clientScenario(name) {
  const s = scenario(name);
  const step = s.steps[0];
  await mock.setScenario(s.server);
  await openPanel();
  const result = await page.evaluate(
    async ({ base, step }) => {
      const m = await import('./mesbackup/index.js');
      const dir = await navigator.storage.getDirectory();
      for (const [file, text] of Object.entries(step.existing_files ?? {})) {
        const w = await (await dir.getFileHandle(file, { create: true })).createWritable();
        await w.write(text);
        await w.close();
      }
      const o = step.options ?? {};
      const min = o.min_poll_ms ?? 10;
      const client = new m.Client({
        envUrl: base,
        token: step.auth.token,
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
      try {
        const r = await client.backup(step.database, { sink: m.directorySink(dir), jitterSeed: 42 });
        return { outcome: 'ok', guid: r.guid, message: '' };
      } catch (e) {
        return { outcome: e.kind, guid: e.guid, message: e.message };
      }
    },
    { base: mock.base, step },
  );
  assert.equal(result.outcome, step.expect.outcome, result.message);
  if (step.expect.guid) assert.equal(result.guid, step.expect.guid);
  for (const part of step.expect.message_contains ?? [])
    assert.ok(result.message.includes(part), `${part} not in: ${result.message}`);
  if (step.expect.files) checkFiles(step.expect.files, await opfsListing());
  if (s.expect_requests) checkLog(s.expect_requests, await mock.log());
}

// Bounded downloads and long names in the browser. Not here: the read-only folder scenarios (a
// browser sink has no folder to check), and the oversized header (Chromium reports a header block
// over its limit as a plain "Failed to fetch", indistinguishable from a network failure).
test('a drip under the low-speed limit is abandoned', () => clientScenario('low-speed-drip-abandoned'));
test('a steady transfer above the low-speed limit is saved', () => clientScenario('speed-above-limit-completes'));
test('a chunked body over max_size is abandoned', () => clientScenario('chunked-over-max-size'));
test('a Content-Length over max_size is refused unread', () => clientScenario('content-length-over-max-size'));
test('the download timeout fires', () => clientScenario('download-timeout-fires'));
test('a 200-byte name with a clash keeps its extension and GUID tag', () => clientScenario('long-name-clash'));

test('happy path (Bearer, pending twice, then ready)', () => panelScenario('happy-path-bearer'));
test('401 with a wrong token', () => panelScenario('unauthorized-401'));
test('pending as 204 then ready', () => panelScenario('pending-as-204'));
test('truncated stream is download_lost, nothing saved', () => panelScenario('truncated-stream'));
test('cross-host redirect: no Authorization to the other host', () => panelScenario('cross-host-redirect'));
test('a redirect on the POST is refused, not followed (opaque redirect)', () => panelScenario('post-redirect-refused'));

test('cancellation mid-download leaves nothing behind', async () => {
  await mock.setScenario({
    payload: { size: 4 * 1048576, seed: 3 },
    download: { drip: { chunk: 65536, interval_ms: 60 } },
  });
  await openPanel();
  await setField('#token', 'admin-token');
  await page.select('#database', 'MESCDM');
  const rows = await runPanel('#one', {
    whileRunning: async () => {
      await page.waitForFunction(() => /MiB/.test(document.querySelector('#rows tbody tr .pct')?.textContent ?? ''), {
        timeout: 20_000,
      });
      await page.click('#cancel');
    },
  });
  assert.equal(rows[0].status, 'failed:cancelled', rows[0].text);
  assert.deepEqual(await opfsListing(), {}, 'no partial package in the folder');
  const log = await mock.log();
  const get200 = log.find((r) => r.method === 'GET' && r.status === 200);
  assert.ok(get200 && get200.body_complete === false, 'the download was cut short');
});

test('all four databases under installer names, screenshot', async () => {
  const s = scenario('four-databases-at-once');
  await mock.setScenario(s.server);
  await openPanel();
  await setField('#token', 'admin-token');
  await setField('#version', '11.3.0');
  const rows = await runPanel('#all');
  assert.deepEqual(
    rows.map((r) => r.status),
    ['saved', 'saved', 'saved', 'saved'],
    JSON.stringify(rows),
  );
  // Read back from the folder and verified against the ClickHouse manifest and the download's SHA-256.
  assert.deepEqual(
    rows.map((r) => r.verified),
    ['ok', 'ok', 'ok', 'ok'],
    JSON.stringify(rows),
  );
  assert.match(await page.$eval('#summary', (e) => e.textContent), /4 of 4 verified/);
  const listing = await opfsListing();
  const kinds = { MES: 'Online', MESCDM: 'CDM', MESODS: 'ODS', MESDWH: 'DWH' };
  const expected = {};
  for (const [file, fe] of Object.entries(s.steps[0].expect.files)) {
    const db = file.split('.')[0];
    const name = `MES.Cmf.ClickHouse.FullBackup.${kinds[db]}.11.3.0.zip`;
    expected[file.endsWith('.json') ? `${name}.mesbackup.json` : name] = fe;
  }
  checkFiles(expected, listing);
  checkLog(s.expect_requests, await mock.log());
  await new Promise((r) => setTimeout(r, 400)); // let the progress bars finish their transition
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'wasm-panel.png'), fullPage: true });
});

test('the verifier module is loaded on first use only (a page that downloads never fetches it)', async () => {
  await openPanel();
  const loaded = () =>
    page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name.split('/').pop()));
  const before = await loaded();
  assert.ok(before.includes('mesbackup_wasm_bg.wasm'), JSON.stringify(before));
  assert.ok(!before.some((n) => n.startsWith('mesbackup_verify')), `the verifier was loaded with the panel: ${before}`);
  const r = await page.evaluate(async () => {
    const m = await import('./mesbackup/index.js');
    let early = null;
    try {
      new m.Verifier();
    } catch (e) {
      early = e.kind;
    }
    const report = await m.verify(new Blob([new Uint8Array(100)]));
    const v = new m.Verifier(); // loaded now: the constructor works
    v.feed(new Uint8Array(5));
    const created = await m.Verifier.create();
    created.finish();
    return { early, ok: report.ok, problems: report.problems.length, fed: v.bytesFed, sha: report.sha256 };
  });
  assert.equal(r.early, 'invalid_argument');
  assert.equal(r.ok, false);
  assert.ok(r.problems > 0);
  assert.equal(r.fed, 5);
  assert.match(r.sha, /^[0-9a-f]{64}$/);
  assert.ok((await loaded()).includes('mesbackup_verify_bg.wasm'));
});

test("the browser verifier refuses hostile packages with the core's problem kind (the same rule as restore)", async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { execFileSync } = await import('node:child_process');
  const tmp = mkdtempSync(join(tmpdir(), 'mesbackup-hostile-'));
  try {
    execFileSync('python3', [
      resolve(root, 'tests/fixtures/hostile/make_hostile.py'),
      join(tmp, 'p'),
      join(tmp, 'escape'),
    ]);
    const cases = JSON.parse(readFileSync(join(tmp, 'p', 'cases.json'), 'utf8'));
    await openPanel();
    for (const c of cases) {
      const b64 = readFileSync(c.file).toString('base64');
      const kinds = await page.evaluate(async (data) => {
        const m = await import('./mesbackup/index.js');
        const bytes = Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0));
        const r = await m.verify(new Blob([bytes]));
        return { ok: r.ok, kinds: r.problems.map((p) => p.kind) };
      }, b64);
      assert.equal(kinds.ok, false, c.case);
      assert.ok(kinds.kinds.includes(c.problem), `${c.case}: ${c.problem} in ${kinds.kinds}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
