// A typed example (checked with `tsc --noEmit` by scripts/suites/40-wasm.sh; also runnable with node
// after stripping types): back up one database, then a whole system under installer names.
import { Client, checkPackageName, installerPackageName, type MesBackupError, type SavedPackage } from 'mesbackup';
import { fileSink } from 'mesbackup/node';

export async function main(envUrl: string, token: string, dir: string): Promise<SavedPackage> {
  const client = new Client({ envUrl, token, pollMinMs: 1000 });
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
    return saved;
  } catch (e) {
    const err = e as MesBackupError;
    if (err.kind === 'timeout' && err.guid) console.log(`resume later with client.download('${err.guid}', ...)`);
    throw err;
  }
}
