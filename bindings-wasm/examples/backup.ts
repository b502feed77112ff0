// A typed example (checked with `tsc --noEmit` by scripts/suites/40-wasm.sh; also runnable with node
// after stripping types): back up one database, then a whole system under installer names.
import {
  Client,
  checkPackageName,
  inspect,
  installerPackageName,
  type MesBackupError,
  type SavedPackage,
  Verifier,
  verify,
} from 'mesbackup';
import { fileSink, verifyFile } from 'mesbackup/node';

export async function main(envUrl: string, token: string, dir: string): Promise<SavedPackage> {
  const client = new Client({ envUrl, token, minPollDelayMs: 1000 });
  const controller = new AbortController();
  try {
    const saved = await client.backup('MESCDM', {
      sink: fileSink(dir),
      fileName: installerPackageName('CDM', '11.3.0', 'MES'),
      onProgress: (p) => console.log(`${p.bytes} of ${p.total ?? '?'} bytes`),
      signal: controller.signal,
    });
    const all = await client.backupSystem('MES', { sink: fileSink(dir), version: '11.3.0' });
    for (const r of all) console.log(r.database, r.ok ? r.result.fileName : r.error.kind);
    const check = checkPackageName(saved.fileName);
    if (!check.ok) console.log(check.reason, check.expected);
    if (saved.location) {
      // Verify the saved file against its sidecar's SHA-256 (throws kind 'integrity' when damaged).
      const report = await verifyFile(saved.location, { throwOnError: true, signal: controller.signal });
      for (const db of report.inspection.databases) console.log(db.name, db.tables.length, 'tables', db.rows, 'rows');
    }
    return saved;
  } catch (e) {
    const err = e as MesBackupError;
    if (err.kind === 'timeout' && err.guid) console.log(`resume later with client.download('${err.guid}', ...)`);
    throw err;
  }
}

/** Browser: verify a user-picked or downloaded File without reading it whole into memory. */
export async function checkDownloaded(file: File, expectedSha256?: string): Promise<boolean> {
  const report = await verify(file, { expectedSha256, onProgress: (p) => console.log(p.bytes, '/', p.total) });
  for (const p of report.problems) console.log(p.kind, p.message, p.file ?? p.entry ?? '');
  const contents = await inspect(file.stream());
  console.log(contents.tables, 'tables', contents.rows, 'rows');
  const v = await Verifier.create(); // in a browser, `new Verifier()` only after `await initVerifier()`
  v.feed(new Uint8Array(await file.slice(0, 1024).arrayBuffer()));
  const { report: partial } = v.finish();
  console.log(partial.ok, partial.sha256);
  return report.ok;
}
