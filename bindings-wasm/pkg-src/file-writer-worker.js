// The worker thread of node.js's fileSink: it hashes (SHA-256) and writes to the temporary file's
// descriptor the filled buffers the sink transfers to it, in order, and transfers each buffer back for
// reuse. Messages in: {buf: ArrayBuffer, n} (the first n bytes are data), then {finish: true} (fsync,
// reply {done: {bytes, sha256}}, once any background fdatasync has settled). Out: {buf} (a buffer to reuse), {error: {message, code, errno,
// syscall}} (the first failure; later buffers are returned unwritten and finish replies the error).
import { parentPort, workerData } from 'node:worker_threads';
import { writeSync, fsyncSync, fdatasync } from 'node:fs';
import { createHash } from 'node:crypto';

const { fd } = workerData;
const hash = createHash('sha256');
let bytes = 0;
let failure = null;
// Write-back while downloading: every SYNC_EVERY bytes an fdatasync runs on libuv's thread pool
// while writes go on, so the fsync in finish only has the last stretch left to flush (a 1 GiB
// package otherwise waits ~0.3 s at the end for all of it). Its errors count like write errors.
const SYNC_EVERY = 64 << 20;
let unsynced = 0;
let syncing = null; // a promise while an fdatasync is in flight
const backgroundSync = () => {
  unsynced = 0;
  syncing = new Promise((resolve) => fdatasync(fd, (e) => {
    if (e && !failure) { failure = describe(e); parentPort.postMessage({ error: failure }); }
    syncing = null;
    resolve();
  }));
};

const describe = (e) => ({ message: String(e?.message ?? e), code: e?.code, errno: e?.errno, syscall: e?.syscall });

parentPort.on('message', (m) => {
  if (m.buf) {
    if (!failure) {
      try {
        const data = new Uint8Array(m.buf, 0, m.n);
        hash.update(data);
        let done = 0;
        while (done < m.n) done += writeSync(fd, data, done, m.n - done);
        bytes += m.n;
        unsynced += m.n;
        if (unsynced >= SYNC_EVERY && !syncing) backgroundSync();
      } catch (e) {
        failure = describe(e);
        parentPort.postMessage({ error: failure });
      }
    }
    parentPort.postMessage({ buf: m.buf }, [m.buf]);
  } else if (m.finish) {
    if (syncing) { syncing.then(() => finish()); return; }
    finish();
  }
});

function finish() {
  if (!failure) {
    try {
      fsyncSync(fd);
      parentPort.postMessage({ done: { bytes, sha256: hash.digest('hex') } });
      return;
    } catch (e) { failure = describe(e); }
  }
  parentPort.postMessage({ error: failure });
}
