// Node-only helpers: `fileSink(dir)` saves packages into a folder with the same guarantees as the
// native file sink (client/src/file_sink.rs): a hidden temporary file, fsync, then an atomic
// "create only if absent" (hard link; rename where links are unsupported), never replacing an
// existing file unless asked, the temporary file removed on every failure. Files get exactly
// `fileMode` (default 0o600) and the folders it creates `dirMode` (0o700), whatever the umask; on
// Windows both inherit the folder's ACL instead.
//
// Node cannot lock a file (no flock), and the CLI and Python remove any `.mesbackup-partial` file
// whose lock they can take, as left by a killed run. So the temporary files written here end with
// `.mesbackup-node-partial` instead: the CLI and Python never touch them (nothing proves one stale),
// and nothing in JavaScript removes any file it did not create in this process. A Node process
// killed mid-download leaves its temporary file behind (private, 0600): remove it once no Node run
// writes into that folder.

import { createHash, randomBytes } from 'node:crypto';
import { constants, link, mkdir, open, rename, stat, statfs, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { fileModes, mountModeProblem } from './index.js';
import { writableSink } from './sinks.js';

/** The end of this sink's temporary file names (not `.mesbackup-partial`: see above). */
export const PARTIAL_SUFFIX = '.mesbackup-node-partial';
/** Unix permission bits are not used on Windows (files inherit the folder's ACL). */
const setsModes = process.platform !== 'win32';
const BUFFER = 1 << 20;
/** Buffers per open sink: one filling, the others queued for, being hashed or written by the worker
 * (8 MiB in all; 4 left the reader waiting whenever a write was slow). */
const POOL = 8;
const tag = () => randomBytes(4).toString('hex');

function assertPlainName(name) {
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name))
    throw Object.assign(new Error(`unsafe file name ${JSON.stringify(name)}`), { kind: 'invalid_argument' });
}

/** The file systems that keep permissions of their own (FAT, exFAT, SMB without Unix extensions) refuse chmod so. */
const REFUSES_CHMOD = new Set(['ENOSYS', 'EOPNOTSUPP', 'ENOTSUP', 'EPERM']);

/** Gives the open `handle` exactly `mode`; where the file system refuses, the mode it gave is kept if
 * the core's rule accepts it (group and others get no more than asked). */
async function setMode(handle, mode, isFolder) {
  try {
    await handle.chmod(mode);
  } catch (e) {
    if (!REFUSES_CHMOD.has(e.code)) throw e;
    const problem = mountModeProblem((await handle.stat()).mode, mode, isFolder, e.message);
    if (problem) throw Object.assign(new Error(problem), { code: 'EPERM' });
  }
}

/** A new temporary file (never an existing one) with exactly `mode`, not what the umask leaves. */
async function createTemp(dir, name, mode) {
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `.${name}.${tag()}${PARTIAL_SUFFIX}`);
    let fh;
    try {
      fh = await open(path, 'wx', mode);
    } catch (e) {
      if (e.code === 'EEXIST' && attempt < 15) continue;
      throw Object.assign(new Error(`cannot create a file in ${dir}: ${e.message}`), { kind: 'io' });
    }
    try {
      if (setsModes) await setMode(fh, mode, false);
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw Object.assign(new Error(`cannot set the permissions of a file in ${dir}: ${e.message}`), { kind: 'io' });
    }
    return { path, fh };
  }
}

/** Creates `dir` and its missing parents, each created here with exactly `mode`; existing folders keep theirs. */
async function mkdirWithMode(dir, mode) {
  try {
    if ((await stat(dir)).isDirectory()) return;
  } catch {
    /* missing: create it */
  }
  const parent = dirname(dir);
  if (parent !== dir) await mkdirWithMode(parent, mode);
  try {
    await mkdir(dir, { mode });
  } catch (e) {
    if (e.code === 'EEXIST') return; // someone else's folder now: its permissions
    throw e;
  }
  if (!setsModes) return;
  // Through a descriptor opened without following a link: a link planted in its place is refused.
  const dh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await setMode(dh, mode, true);
  } finally {
    await dh.close();
  }
}

async function syncDir(dir) {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* not supported */
  }
}

/** Commits `temp` as `target` without replacing an existing file. false = the name is taken. */
async function linkNoClobber(temp, target) {
  try {
    await link(temp, target);
  } catch (e) {
    if (e.code === 'EEXIST') return false;
    // File systems without hard links: check, then rename (a small race, as in the native sink).
    try {
      await stat(target);
      return false;
    } catch {
      /* free */
    }
    await rename(temp, target);
    return true;
  }
  await unlink(temp).catch(() => {});
  return true;
}

/** A failure of the temporary file's writes, as the `kind: 'io'` error the driver reports. */
function ioError(e) {
  return Object.assign(new Error(e?.message ?? String(e)), {
    kind: 'io',
    code: e?.code,
    errno: e?.errno,
    syscall: e?.syscall,
  });
}

class FileSink {
  #dir;
  #temp;
  #fh;
  /** The buffer being filled (null: take one from #free when the next byte comes) and its fill. */
  #buf = new Uint8Array(BUFFER);
  #used = 0;
  #allocated = 1;
  #free = [];
  /** Bytes handed to the worker (or written inline); finish() checks the worker wrote as many. */
  #given = 0;
  #worker = null;
  #inFlight = 0;
  #finishing = false;
  #error = null;
  /** The worker has exited; #onStopped: settles #stopWorker's wait for the worker's {stopped}. */
  #workerGone = false;
  #onStopped = null;
  /** Settled by the worker's {done} / first error; never an unhandled rejection (see #startWorker). */
  #result = null;
  #resolve = null;
  #reject = null;
  /** Callbacks waiting for the worker's next message (a buffer back, an error, its exit). */
  #waiters = [];
  #fileMode;
  constructor(dir, temp, fh, fileMode) {
    this.#dir = dir;
    this.#temp = temp;
    this.#fh = fh;
    this.#fileMode = fileMode;
  }

  // The sink hashes what it writes with node:crypto (hardware-accelerated, unlike SHA-256 compiled
  // to WebAssembly); finish() then reports {bytes, sha256} and the driver skips its own hashing.
  get computesSha256() {
    return true;
  }
  // write() copies each chunk (into its buffer, or a copy of the rest while it waits for a buffer)
  // before returning, keeps no reference to it and never changes it, so the driver may hand it the
  // chunks fetch delivered themselves (no copy of its own per chunk).
  get copiesChunks() {
    return true;
  }

  // Filled 1 MiB buffers go to a worker thread (file-writer-worker.js), which hashes and writes them
  // off the main thread and sends them back for reuse. At most POOL buffers exist, so memory stays
  // flat: write() only returns a promise when all of them are in flight.
  write(chunk) {
    if (this.#error) throw this.#error;
    let off = 0;
    while (off < chunk.byteLength) {
      if (!this.#buf) {
        this.#buf = this.#free.pop() ?? null;
        if (!this.#buf && this.#allocated < POOL) {
          this.#allocated++;
          this.#buf = new Uint8Array(BUFFER);
        }
        if (!this.#buf) {
          const rest = chunk.slice(off); // a copy: the chunk is not ours to keep
          return this.#nextEvent().then(() => this.write(rest));
        }
      }
      const n = Math.min(BUFFER - this.#used, chunk.byteLength - off);
      this.#buf.set(chunk.subarray(off, off + n), this.#used);
      this.#used += n;
      off += n;
      if (this.#used === BUFFER) this.#send();
    }
    return undefined;
  }

  #nextEvent() {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #event() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #fail(e) {
    this.#error ??= e;
    this.#reject?.(this.#error);
    this.#event();
  }

  #startWorker() {
    this.#result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#result.catch(() => {}); // also reported through #error / finish()
    const w = new Worker(new URL('./file-writer-worker.js', import.meta.url), { workerData: { fd: this.#fh.fd } });
    w.on('message', (m) => {
      if (m.buf) {
        this.#inFlight--;
        this.#free.push(new Uint8Array(m.buf));
        // Idle: let the process exit if the sink is abandoned (in flight, the worker keeps it alive).
        if (this.#inFlight === 0 && !this.#finishing) w.unref();
        this.#event();
      } else if (m.error) {
        this.#fail(ioError(m.error));
      } else if (m.done) {
        this.#resolve(m.done);
      } else if (m.stopped) {
        this.#onStopped?.();
      }
    });
    w.on('error', (e) => this.#fail(ioError(e)));
    w.on('exit', () => {
      this.#workerGone = true;
      this.#onStopped?.();
      this.#fail(Object.assign(new Error('the file writer thread stopped'), { kind: 'io' }));
    });
    this.#worker = w;
  }

  /** Transfers the filled buffer to the worker; the next write takes a free one. */
  #send() {
    if (!this.#worker) this.#startWorker();
    const buf = this.#buf,
      n = this.#used;
    this.#buf = null;
    this.#used = 0;
    this.#given += n;
    if (this.#inFlight++ === 0) this.#worker.ref();
    this.#worker.postMessage({ buf: buf.buffer, n }, [buf.buffer]);
  }

  async #stopWorker() {
    const w = this.#worker;
    if (!w) return;
    this.#worker = null;
    w.ref(); // an unreferenced worker would let the process exit before it answers
    // The worker's writes run on libuv's thread pool: it answers {stopped} once none is in flight,
    // so that no write lands in whatever file reuses the descriptor's number after close().
    if (!this.#workerGone)
      await new Promise((resolve) => {
        this.#onStopped = resolve;
        w.postMessage({ stop: true });
      });
    w.removeAllListeners('exit');
    await w.terminate();
  }

  async finish() {
    if (this.#error) throw this.#error;
    let result;
    if (this.#worker) {
      if (this.#used > 0) this.#send();
      this.#finishing = true;
      this.#worker.ref();
      this.#worker.postMessage({ finish: true });
      result = await this.#result; // rejects with the worker's first error
      await this.#stopWorker();
    } else {
      // Less than one buffer in all: hash and write here (no thread started for a small file).
      const n = this.#used,
        buf = this.#buf;
      const hash = createHash('sha256').update(buf.subarray(0, n));
      try {
        let done = 0;
        while (done < n) done += (await this.#fh.write(buf, done, n - done)).bytesWritten;
        await this.#fh.sync();
      } catch (e) {
        this.#error = ioError(e);
        throw this.#error;
      }
      this.#used = 0;
      this.#given = n;
      result = { bytes: n, sha256: hash.digest('hex') };
    }
    await this.#fh.close();
    this.#fh = null;
    if (result.bytes !== this.#given) {
      this.#error = Object.assign(new Error(`wrote ${result.bytes} bytes of ${this.#given}`), { kind: 'io' });
      throw this.#error;
    }
    return result;
  }

  async commit(name, overwrite, sidecarJson) {
    assertPlainName(name);
    const target = join(this.#dir, name);
    if (overwrite) await rename(this.#temp, target);
    else if (!(await linkNoClobber(this.#temp, target))) return null;
    this.#temp = null;
    const sidecar = join(this.#dir, `${name}.mesbackup.json`);
    const { path, fh } = await createTemp(this.#dir, `${name}.mesbackup.json`, this.#fileMode);
    try {
      await fh.writeFile(sidecarJson);
      await fh.sync();
      await fh.close();
      await rename(path, sidecar);
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw Object.assign(
        new Error(`the package was saved, but its sidecar could not be written to ${sidecar}: ${e.message}`),
        { kind: 'io' },
      );
    }
    await syncDir(this.#dir);
    return target;
  }

  async discard(keepAs) {
    // A file kept for diagnosis gets the buffers already handed over; otherwise the worker is stopped
    // at once (mid-buffer if need be), always before its descriptor is closed.
    if (keepAs) while (this.#worker && this.#inFlight > 0 && !this.#error) await this.#nextEvent();
    await this.#stopWorker();
    this.#fail(Object.assign(new Error('the file was discarded'), { kind: 'io' }));
    if (this.#fh) {
      await this.#fh.close().catch(() => {});
      this.#fh = null;
    }
    const temp = this.#temp;
    this.#temp = null;
    if (!temp) return;
    if (keepAs && !/[/\\\0]/.test(keepAs) && keepAs !== '..') {
      if (await linkNoClobber(temp, join(this.#dir, keepAs)).catch(() => false)) return;
    }
    await unlink(temp).catch(() => {});
  }
}

/** What keeps `dir` from taking a new file, in words an administrator acts on (as the native sink). */
function folderError(dir, e) {
  let message;
  if (e.code === 'EROFS') message = `${dir} is on a read-only file system (${e.message})`;
  else if (e.code === 'EACCES' || e.code === 'EPERM')
    message = `${dir} does not accept new files (${e.message}): check its owner and permissions, and whether it is immutable (\`lsattr -d ${dir}\`)`;
  else if (e.code === 'ENOSPC') message = `the file system of ${dir} is full (${e.message})`;
  else message = `cannot create a file in ${dir}: ${e.message}`;
  return Object.assign(new Error(message), { kind: 'io', code: e.code });
}

async function assertFolder(dir) {
  let st;
  try {
    st = await stat(dir);
  } catch (e) {
    const hint = e.code === 'ENOENT' ? ': create it, or pass { create: true } to fileSink' : '';
    throw Object.assign(new Error(`cannot use the output folder ${dir}: ${e.message}${hint}`), { kind: 'io' });
  }
  if (!st.isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { kind: 'io' });
}

/** Room beyond the package itself for its sidecar and the file system's own bookkeeping. */
const FREE_SPACE_MARGIN = 1 << 20;

/** Refuses at once a package that cannot fit, instead of writing until the disk is full. */
async function ensureRoom(dir, needed) {
  let free;
  try {
    const s = await statfs(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; /* unknown: not a refusal */
  }
  if (needed + FREE_SPACE_MARGIN <= free) return;
  throw Object.assign(
    new Error(
      `the package is ${needed} bytes but ${dir} has ${free} bytes free, so nothing was written; it needs at least ${needed + FREE_SPACE_MARGIN - free} bytes more`,
    ),
    { kind: 'io' },
  );
}

/**
 * Saves each package in folder `dir` (created when `create: true`, with `dirMode`). Packages, sidecars
 * and temporary files get exactly `fileMode`. Modes: octal text ("0640") or numbers (0o640); default
 * 0o600 / 0o700, private; a mode that would expose or lose data throws `invalid_argument` here.
 */
export function fileSink(dir, { create = false, fileMode, dirMode } = {}) {
  const modes = fileModes(fileMode, dirMode);
  return {
    // Called by the driver before the backup request and before the first download request: the
    // folder exists (or is created), is a folder and takes a new file. The probe is hidden and named
    // like this tool's temporary files, so a crash in between leaves nothing a later run cannot clean.
    async prepare() {
      if (create)
        await mkdirWithMode(resolve(dir), modes.dir).catch((e) => {
          throw folderError(dir, e);
        });
      await assertFolder(dir);
      const probe = join(dir, `.mesbackup-probe.${tag()}${PARTIAL_SUFFIX}`);
      let fh;
      try {
        fh = await open(probe, 'wx', modes.file);
      } catch (e) {
        throw folderError(dir, e);
      }
      // A package file gets its mode the same way: a folder whose file system refuses it must say
      // so now, before the one-shot download starts, not after.
      let modeSet = null;
      if (setsModes) modeSet = await setMode(fh, modes.file, false).catch((e) => e);
      await fh.close();
      await unlink(probe).catch(() => {
        /* gone already */
      });
      if (modeSet)
        throw Object.assign(new Error(`cannot give new files in ${dir} their permissions: ${modeSet.message}`), {
          kind: 'io',
        });
    },
    async open(fileName, expectedLength) {
      assertPlainName(fileName);
      if (create) {
        try {
          await mkdirWithMode(resolve(dir), modes.dir);
        } catch (e) {
          throw Object.assign(new Error(`cannot create the output folder ${dir}: ${e.message}`), { kind: 'io' });
        }
      }
      await assertFolder(dir);
      if (expectedLength != null) await ensureRoom(dir, expectedLength);
      const { path, fh } = await createTemp(dir, fileName, modes.file);
      return new FileSink(dir, path, fh, modes.file);
    },
  };
}

/** A Node Writable (e.g. process.stdout, an upload stream) as a sink, through Writable.toWeb. */
export function nodeWritableSink(writable, options) {
  return writableSink(Writable.toWeb(writable), options);
}

// --- Verification of a saved package file (streamed, 1 MiB at a time).
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { inspect, integrityError, verify } from './index.js';

const SIDECAR_SUFFIX = '.mesbackup.json';

/** The `<path>.mesbackup.json` sidecar, parsed; null when there is none. */
export async function readSidecar(path) {
  let text;
  try {
    text = await readFile(`${path}${SIDECAR_SUFFIX}`, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw Object.assign(new Error(`cannot read the sidecar of ${path}: ${e.message}`), { kind: 'io', guid: null });
  }
  try {
    const s = JSON.parse(text);
    if (typeof s?.sha256 !== 'string') throw new Error('no sha256');
    return s;
  } catch (e) {
    throw Object.assign(new Error(`${path}${SIDECAR_SUFFIX} is not a mesbackup sidecar file: ${e.message}`), {
      kind: 'invalid_argument',
      guid: null,
    });
  }
}

async function fileSource(path) {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw Object.assign(new Error(`cannot read ${path}: ${e.message}`), { kind: 'io', guid: null });
  }
  if (!st.isFile()) throw Object.assign(new Error(`${path} is not a file`), { kind: 'io', guid: null });
  return { stream: createReadStream(path, { highWaterMark: 1 << 20 }), size: st.size };
}

/**
 * Verifies the package file at `path`. The sidecar `<path>.mesbackup.json`, when present, gives the
 * expected SHA-256 (`expectedSha256` overrides it; `sidecar: false` ignores it). The report also has
 * `path` and `sidecar` (the sidecar's path, or null).
 */
export async function verifyFile(path, options = {}) {
  const side = options.sidecar === false ? null : await readSidecar(path);
  const expectedSha256 = options.expectedSha256 ?? side?.sha256;
  const { stream, size } = await fileSource(path);
  try {
    const report = await verify(stream, { ...options, expectedSha256, total: size, throwOnError: false });
    const out = { ...report, path, sidecar: side ? `${path}${SIDECAR_SUFFIX}` : null };
    if (options.throwOnError && !out.ok) throw integrityError(out);
    return out;
  } finally {
    stream.destroy();
  }
}

/** What the package file at `path` holds (see inspect()). */
export async function inspectFile(path, options = {}) {
  const { stream, size } = await fileSource(path);
  try {
    return await inspect(stream, { ...options, total: size });
  } finally {
    stream.destroy();
  }
}
