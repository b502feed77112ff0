// The worker thread of node.js's fileSink: it hashes (SHA-256) the filled buffers the sink transfers
// to it, writes them in order to the temporary file's descriptor, and transfers each buffer back for
// reuse once written.
//   In:  {buf: ArrayBuffer, n} (the first n bytes are data); {finish: true}; {stop: true}.
//   Out: {buf} (a buffer to reuse); {error: {message, code, errno, syscall}} (the first failure;
//        later buffers come back unwritten and finish answers the error); {done: {bytes, sha256}}
//        (after finish: every write done and the file fsynced); {stopped: true} (after stop: nothing
//        of this thread's touches the descriptor any more, so the sink may close it).
//
// Hashing and writing overlap: this thread hashes buffer k while libuv's thread pool writes buffer
// k-1 (one write in flight, so the file is written in order). Done one after the other here, the two
// were the download's bottleneck whenever the page cache was slow to take writes (this VM with a
// full cache: 0.60x of plain fetch -> fs, against 0.72x overlapped; the same when writes are fast).

import { createHash } from 'node:crypto';
import { fdatasync, fsync, write } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { fd } = workerData;
const hash = createHash('sha256');
let bytes = 0;
let failure = null;
/** Hashed buffers waiting for their write, oldest first. */
const queue = [];
let writing = false;
let finishing = false;
let stopping = false;
// Write-back while downloading: every SYNC_EVERY bytes an fdatasync runs on the thread pool while
// writes go on, so the fsync at the end only has the last stretch left to flush (a 1 GiB package
// otherwise waits ~0.3 s at the end for all of it). Its errors count like write errors.
// Unlike the native file sink, the written pages are not dropped from the page cache afterwards:
// node:fs has no posix_fadvise (nor sync_file_range), so a package saved from Node stays cached until
// the kernel evicts it (see bytecodealliance/jco#718: fadvise "is not supported in Node.js
// filesystem API"). The native CLI or the Python package leave ~0 MiB behind.
const SYNC_EVERY = 64 << 20;
let unsynced = 0;
let syncing = false;

const describe = (e) => ({ message: String(e?.message ?? e), code: e?.code, errno: e?.errno, syscall: e?.syscall });

function fail(e) {
  if (failure) return;
  failure = describe(e);
  parentPort.postMessage({ error: failure });
}

function giveBack(buf) {
  parentPort.postMessage({ buf }, [buf]);
}

/** Writes the oldest queued buffer (all of it, however many calls that takes), then the next. */
function pump() {
  if (writing) return;
  const job = queue.shift();
  if (!job) {
    settle();
    return;
  }
  if (failure || stopping) {
    giveBack(job.buf);
    pump();
    return;
  }
  writing = true;
  const data = new Uint8Array(job.buf, 0, job.n);
  const step = (done) => {
    if (done === job.n) {
      bytes += job.n;
      unsynced += job.n;
      if (unsynced >= SYNC_EVERY && !syncing && !stopping) backgroundSync();
      writing = false;
      giveBack(job.buf);
      pump();
      return;
    }
    write(fd, data, done, job.n - done, null, (e, written) => {
      if (e) {
        fail(e);
        writing = false;
        giveBack(job.buf);
        pump();
        return;
      }
      step(done + written);
    });
  };
  step(0);
}

function backgroundSync() {
  unsynced = 0;
  syncing = true;
  fdatasync(fd, (e) => {
    if (e) fail(e);
    syncing = false;
    settle();
  });
}

/** Answers finish or stop once no write or fdatasync of ours is in flight. */
let answered = false;
function settle() {
  if (answered || writing || syncing || queue.length > 0) return;
  if (stopping) {
    answered = true;
    parentPort.postMessage({ stopped: true });
  } else if (finishing) {
    answered = true;
    if (failure) {
      parentPort.postMessage({ error: failure });
      return;
    }
    syncing = true;
    fsync(fd, (e) => {
      syncing = false;
      if (e) fail(e);
      else parentPort.postMessage({ done: { bytes, sha256: hash.digest('hex') } });
      if (stopping) settle();
    });
  }
}

parentPort.on('message', (m) => {
  if (m.buf) {
    if (!failure && !stopping) hash.update(new Uint8Array(m.buf, 0, m.n));
    queue.push(m);
    pump();
  } else if (m.finish) {
    finishing = true;
    settle();
  } else if (m.stop) {
    // Drop what is queued; answer once the write or sync in flight is done (even one that finish
    // started: the sink may give up waiting for finish, then discards).
    stopping = true;
    answered = false;
    while (queue.length > 0) giveBack(queue.shift().buf);
    settle();
  }
});
