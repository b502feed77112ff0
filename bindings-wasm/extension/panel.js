// The mesbackup panel: runs in the extension (chrome-extension://…/panel.html?env=<MES origin>) or as a
// plain page served next to the MES API (/panel/ on the MES origin; that is how it is tested).
// All protocol work is done by the mesbackup package (WebAssembly); this file is only the UI.
import {
  Client,
  directorySink,
  downloadSink,
  installerNameForDatabase,
  systemDatabases,
  toolVersion,
  verify,
} from './mesbackup/index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const inExtension = !!globalThis.chrome?.runtime?.id && location.protocol === 'chrome-extension:';
let destination = null; // FileSystemDirectoryHandle, or null = browser downloads
let destinationLabel = 'your downloads';
let controller = null;

// ---- environment and credentials ------------------------------------------------------------
$('env').value = params.get('env') || (inExtension ? '' : location.origin + (params.get('prefix') ?? ''));
$('footer').textContent = `${toolVersion()} · WebAssembly · ${inExtension ? 'extension' : 'page on the MES origin'}`;

function showAuth() {
  const pat = $('auth-mode').value === 'pat';
  document.querySelectorAll('.auth-pat').forEach((e) => {
    e.hidden = !pat;
  });
  document.querySelectorAll('.auth-token').forEach((e) => {
    e.hidden = pat;
  });
}
$('auth-mode').addEventListener('change', showAuth);

async function loadSessionToken() {
  if (!inExtension || !$('env').value) return;
  const origin = new URL($('env').value).origin;
  const have = await chrome.permissions.contains({ origins: [`${origin}/*`] });
  if (!have) {
    $('token-note').innerHTML = '';
    const b = document.createElement('button');
    b.className = 'secondary';
    b.textContent = `Allow mesbackup on ${origin}`;
    b.onclick = async () => {
      if (await chrome.permissions.request({ origins: [`${origin}/*`] })) {
        $('token-note').textContent =
          'Granted. Reload the MES tab (or click anything in it) so its session token can be picked up.';
      }
    };
    $('token-note').append(b, ' so the panel can call the MES API and use your MES session.');
    return;
  }
  const t = await chrome.runtime.sendMessage({ type: 'token', origin });
  if (t?.value) {
    $('token').value = t.value;
    $('token-note').textContent =
      `Using your MES session (token seen ${new Date(t.seenAt).toLocaleTimeString()}); it is sent only to ${origin}.`;
  } else {
    $('token-note').textContent =
      'No session token seen yet: click anything in the MES tab, then reopen this panel, or paste a token.';
  }
}

function client() {
  const envUrl = $('env').value.trim();
  const common = { envUrl };
  if (params.get('fast'))
    Object.assign(common, {
      minPollDelayMs: 50,
      maxPollDelayMs: 250,
      retryDelayMs: 50,
      stallTimeoutMs: 5000,
      requestTimeoutMs: 10000,
    });
  if ($('auth-mode').value === 'pat') return new Client({ ...common, user: $('user').value, pat: $('pat').value });
  return new Client({ ...common, token: $('token').value });
}

// ---- destination -----------------------------------------------------------------------------
$('pick').addEventListener('click', async () => {
  if (!globalThis.showDirectoryPicker) {
    $('dest-name').textContent = 'browser downloads (this browser cannot write to a folder)';
    return;
  }
  try {
    destination = await showDirectoryPicker({ id: 'mesbackup', mode: 'readwrite', startIn: 'downloads' });
    destinationLabel = destination.name;
    $('dest-name').textContent = destination.name;
  } catch {
    /* dismissed */
  }
});
if (params.get('dest') === 'opfs') {
  destination = await navigator.storage.getDirectory();
  destinationLabel = 'the origin private file system';
  $('dest-name').textContent = 'origin private file system (test)';
}
const sink = () => (destination ? directorySink(destination) : downloadSink({ sidecar: true }));

// ---- databases and rows ----------------------------------------------------------------------
function fillDatabases() {
  const sel = $('database');
  sel.innerHTML = '';
  try {
    for (const { kind, database } of systemDatabases($('system').value.trim()))
      sel.add(new Option(`${database} (${kind})`, database));
  } catch (e) {
    showError(e);
  }
}
$('system').addEventListener('change', fillDatabases);
fillDatabases();

const mib = (n) => (n / 1048576).toFixed(n < 10485760 ? 2 : 0);
function row(db) {
  let tr = document.querySelector(`tr[data-db="${db}"]`);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.db = db;
    tr.innerHTML =
      '<td class="db"></td><td class="status"></td><td><div class="bar"><div></div></div><span class="pct"></span></td><td class="pkg"></td>';
    tr.querySelector('.db').textContent = db;
    $('rows').tBodies[0].append(tr);
  }
  return tr;
}
function setRow(db, status, text) {
  const tr = row(db);
  tr.dataset.status = status;
  tr.querySelector('.status').textContent = text;
}
function onEvent(e) {
  const db = e.database;
  if (!db) return;
  const tr = row(db);
  switch (e.event) {
    case 'started':
      setRow(db, 'started', 'Backup started');
      break;
    case 'pending':
      setRow(db, 'pending', `Preparing… (checked ${e.polls}×)`);
      break;
    case 'retrying':
      setRow(db, 'retrying', `Retrying: ${e.reason}`);
      break;
    case 'ready':
      setRow(db, 'downloading', 'Downloading');
      break;
    case 'progress': {
      const pct = e.total ? Math.min(100, (100 * e.bytes) / e.total) : null;
      tr.querySelector('.bar > div').style.width = `${pct ?? 50}%`;
      tr.querySelector('.pct').textContent = `${mib(e.bytes)}${e.total ? ` / ${mib(e.total)}` : ''} MiB`;
      break;
    }
    case 'restarting':
      setRow(db, 'restarting', `Download lost, starting again (${e.restartsUsed}/${e.restartBudget})`);
      break;
    default:
      break;
  }
}
function saved(db, r) {
  setRow(db, 'saved', 'Saved');
  const tr = row(db);
  tr.querySelector('.bar > div').style.width = '100%';
  tr.querySelector('.pct').textContent = `${mib(r.size)} MiB`;
  const pkg = tr.querySelector('.pkg');
  pkg.textContent = r.fileName;
  const small = document.createElement('small');
  small.textContent = `sha256 ${r.sha256.slice(0, 16)}… · GUID ${r.guid}`;
  pkg.append(small);
  tr.dataset.fileName = r.fileName;
  tr.dataset.sha256 = r.sha256;
}
// Reads a saved package back from the folder and verifies it (zip CRCs, the ClickHouse manifest's
// checksums, part checksums, and the SHA-256 recorded while downloading): what was written is what
// the server sent. Browser downloads cannot be read back, so they stay "Saved".
async function verifySaved(db, signal) {
  const tr = row(db);
  const file = await (await destination.getFileHandle(tr.dataset.fileName)).getFile();
  setRow(db, 'saved', 'Saved · verifying…');
  const report = await verify(file, {
    expectedSha256: tr.dataset.sha256,
    signal,
    onProgress: ({ bytes, total }) => {
      tr.querySelector('.pct').textContent = `verifying ${mib(bytes)} / ${mib(total ?? file.size)} MiB`;
    },
  });
  tr.querySelector('.pct').textContent = `${mib(file.size)} MiB`;
  tr.dataset.verified = report.ok ? 'ok' : 'failed';
  if (report.ok) {
    setRow(db, 'saved', 'Saved · verified');
    tr.querySelector('.status').title =
      `${report.filesChecked} files checked against the backup manifest, SHA-256 as downloaded`;
  } else {
    setRow(db, 'saved', 'Saved · DAMAGED');
    const small = document.createElement('small');
    small.className = 'error';
    small.textContent = report.problems[0]?.message ?? 'verification failed';
    tr.querySelector('.pkg').append(small);
  }
}

function failed(db, e) {
  setRow(db, `failed:${e.kind ?? 'error'}`, `Failed (${e.kind ?? 'error'})`);
  const pkg = row(db).querySelector('.pkg');
  pkg.textContent = e.message;
  if (e.guid) {
    const s = document.createElement('small');
    s.textContent = `GUID ${e.guid}`;
    pkg.append(s);
  }
}
function showError(e) {
  $('summary').className = 'note error';
  $('summary').textContent = `${e.kind ? `[${e.kind}] ` : ''}${e.message}`;
}

function names(databases) {
  const version = $('version').value.trim();
  if (!version) return {};
  const out = {};
  for (const db of databases) out[db] = installerNameForDatabase(db, version, { genericNames: !$('prefix').checked });
  return out;
}

// ---- running ---------------------------------------------------------------------------------
function busy(on) {
  document.body.dataset.busy = on ? '1' : '';
  for (const id of ['one', 'all', 'pick']) $(id).disabled = on;
  $('cancel').disabled = !on;
}

async function run(databases) {
  $('summary').className = 'note';
  $('summary').textContent = '';
  $('rows').tBodies[0].innerHTML = '';
  controller = new AbortController();
  busy(true);
  let c;
  try {
    c = client();
    const fileNames = names(databases);
    for (const db of databases) setRow(db, 'queued', 'Starting…');
    const t0 = performance.now();
    if (databases.length === 1) {
      const db = databases[0];
      try {
        saved(
          db,
          await c.backup(db, {
            sink: sink(),
            signal: controller.signal,
            fileName: fileNames[db],
            onEvent: (e) => onEvent({ ...e, database: db }),
          }),
        );
      } catch (e) {
        failed(db, e);
      }
    } else {
      const results = await c.backupSystem($('system').value.trim(), {
        sink: sink(),
        signal: controller.signal,
        fileNames,
        onEvent,
      });
      for (const r of results) r.ok ? saved(r.database, r.result) : failed(r.database, r.error);
    }
    const savedDbs = [...document.querySelectorAll('tr[data-status="saved"]')].map((tr) => tr.dataset.db);
    let verifiedNote = '';
    if (destination && $('verify').checked && savedDbs.length) {
      for (const db of savedDbs) {
        try {
          await verifySaved(db, controller.signal);
        } catch (e) {
          row(db).dataset.verified = 'error';
          setRow(db, 'saved', `Saved · not verified (${e.kind ?? 'error'}: ${e.message})`);
        }
      }
      const good = savedDbs.filter((db) => row(db).dataset.verified === 'ok').length;
      verifiedNote = ` ${good} of ${savedDbs.length} verified${good < savedDbs.length ? ': check the rows marked DAMAGED' : ''}.`;
    }
    $('summary').textContent =
      `${savedDbs.length} of ${databases.length} saved in ${((performance.now() - t0) / 1000).toFixed(1)} s to ${destinationLabel}.${verifiedNote}`;
  } catch (e) {
    showError(e);
  } finally {
    busy(false);
    document.body.dataset.done = String(Number(document.body.dataset.done ?? 0) + 1);
  }
}

$('one').addEventListener('click', () => run([$('database').value]));
$('all').addEventListener('click', () => {
  try {
    run(systemDatabases($('system').value.trim()).map((d) => d.database));
  } catch (e) {
    showError(e);
  }
});
$('cancel').addEventListener('click', () => controller?.abort());
$('env').addEventListener('change', () => {
  loadSessionToken().catch(showError);
  badge();
});
function badge() {
  try {
    $('env-badge').textContent = new URL($('env').value).host;
    $('env-badge').className = 'badge ok';
  } catch {
    $('env-badge').textContent = 'no environment';
    $('env-badge').className = 'badge';
  }
}
showAuth();
badge();
loadSessionToken().catch(showError);
document.body.dataset.ready = '1';
