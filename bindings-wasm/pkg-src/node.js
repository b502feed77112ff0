// Node-only helpers: `fileSink(dir)` saves packages into a folder with the same guarantees as the
// native file sink (client/src/file_sink.rs): a hidden temporary file, fsync, then an atomic
// "create only if absent" (hard link; rename where links are unsupported), never replacing an
// existing file unless asked, the temporary file removed on every failure.
import { open, link, unlink, rename, stat, mkdir } from 'node:fs/promises';
import { randomBytes, createHash } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writableSink } from './sinks.js';

export const PARTIAL_SUFFIX = '.mesbackup-partial';
const BUFFER = 1 << 20;
const tag = () => randomBytes(4).toString('hex');

function assertPlainName(name) {
  if (!name || name === '.' || name === '..' || /[/\\\0]/.test(name)) throw Object.assign(new Error(`unsafe file name ${JSON.stringify(name)}`), { kind: 'invalid_argument' });
}

async function createTemp(dir, name) {
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `.${name}.${tag()}${PARTIAL_SUFFIX}`);
    try { return { path, fh: await open(path, 'wx') }; } catch (e) {
      if (e.code === 'EEXIST' && attempt < 15) continue;
      throw Object.assign(new Error(`cannot create a file in ${dir}: ${e.message}`), { kind: 'io' });
    }
  }
}

async function syncDir(dir) {
  try { const d = await open(dir, 'r'); try { await d.sync(); } finally { await d.close(); } } catch { /* not supported */ }
}

/** Commits `temp` as `target` without replacing an existing file. false = the name is taken. */
async function linkNoClobber(temp, target) {
  try { await link(temp, target); } catch (e) {
    if (e.code === 'EEXIST') return false;
    // File systems without hard links: check, then rename (a small race, as in the native sink).
    try { await stat(target); return false; } catch { /* free */ }
    await rename(temp, target);
    return true;
  }
  await unlink(temp).catch(() => {});
  return true;
}

class FileSink {
  #dir; #temp; #fh; #buf = Buffer.allocUnsafe(BUFFER); #spare = null; #used = 0; #written = 0;
  #hash = createHash('sha256');
  /** The write of the other (full) buffer, while this one fills; it never rejects (see #error). */
  #inFlight = null; #error = null;
  constructor(dir, temp, fh) { this.#dir = dir; this.#temp = temp; this.#fh = fh; }

  // The sink hashes what it writes with node:crypto (hardware-accelerated, unlike SHA-256 compiled
  // to WebAssembly); finish() then reports {bytes, sha256} and the driver skips its own hashing.
  get computesSha256() { return true; }
  // write() copies each chunk into its buffer before returning and keeps no reference to it, so the
  // driver may lend it a view of wasm memory instead of allocating a JS copy per chunk.
  get copiesChunks() { return true; }

  // Two 1 MiB buffers: one is written to disk while the other fills, so the download keeps flowing
  // during a disk write; write() only returns a promise when both are busy.
  write(chunk) {
    if (this.#error) throw this.#error;
    let off = 0;
    while (off < chunk.byteLength) {
      if (this.#inFlight && this.#used + (chunk.byteLength - off) >= BUFFER) {
        const rest = chunk.subarray(off);
        return this.#inFlight.then(() => this.write(rest));
      }
      const n = Math.min(BUFFER - this.#used, chunk.byteLength - off);
      this.#buf.set(chunk.subarray(off, off + n), this.#used);
      this.#used += n; off += n;
      if (this.#used === BUFFER) this.#start();
    }
    return undefined;
  }

  /** Hashes the filled buffer and starts writing it; filling continues in the spare buffer. */
  #start() {
    const buf = this.#buf, n = this.#used;
    this.#hash.update(buf.subarray(0, n));
    this.#buf = this.#spare ?? Buffer.allocUnsafe(BUFFER);
    this.#spare = null;
    this.#used = 0;
    this.#inFlight = (async () => {
      let done = 0;
      while (done < n) {
        const { bytesWritten } = await this.#fh.write(buf, done, n - done);
        done += bytesWritten;
      }
      this.#written += n;
    })().catch((e) => { this.#error ??= e; }).finally(() => { this.#spare = buf; this.#inFlight = null; });
  }

  async #settle() {
    await this.#inFlight;
    if (this.#error) throw this.#error;
  }

  async finish() {
    await this.#settle();
    if (this.#used > 0) { this.#start(); await this.#settle(); }
    await this.#fh.sync();
    await this.#fh.close();
    this.#fh = null;
    return { bytes: this.#written, sha256: this.#hash.digest('hex') };
  }

  async commit(name, overwrite, sidecarJson) {
    assertPlainName(name);
    const target = join(this.#dir, name);
    if (overwrite) await rename(this.#temp, target);
    else if (!(await linkNoClobber(this.#temp, target))) return null;
    this.#temp = null;
    const sidecar = join(this.#dir, `${name}.mesbackup.json`);
    const { path, fh } = await createTemp(this.#dir, `${name}.mesbackup.json`);
    try {
      await fh.writeFile(sidecarJson);
      await fh.sync();
      await fh.close();
      await rename(path, sidecar);
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw Object.assign(new Error(`the package was saved, but its sidecar could not be written to ${sidecar}: ${e.message}`), { kind: 'io' });
    }
    await syncDir(this.#dir);
    return target;
  }

  async discard(keepAs) {
    await this.#inFlight;
    if (this.#fh) { await this.#fh.close().catch(() => {}); this.#fh = null; }
    const temp = this.#temp;
    this.#temp = null;
    if (!temp) return;
    if (keepAs && !/[/\\\0]/.test(keepAs) && keepAs !== '..') {
      if (await linkNoClobber(temp, join(this.#dir, keepAs)).catch(() => false)) return;
    }
    await unlink(temp).catch(() => {});
  }
}

/** Saves each package in folder `dir` (created when `create: true`). */
export function fileSink(dir, { create = false } = {}) {
  return {
    async open(fileName) {
      assertPlainName(fileName);
      if (create) await mkdir(dir, { recursive: true });
      let st;
      try { st = await stat(dir); } catch (e) { throw Object.assign(new Error(`cannot use the output folder ${dir}: ${e.message}`), { kind: 'io' }); }
      if (!st.isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { kind: 'io' });
      const { path, fh } = await createTemp(dir, fileName);
      return new FileSink(dir, path, fh);
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
import { verify, inspect, integrityError } from './index.js';

const SIDECAR_SUFFIX = '.mesbackup.json';

/** The `<path>.mesbackup.json` sidecar, parsed; null when there is none. */
export async function readSidecar(path) {
  let text;
  try { text = await readFile(`${path}${SIDECAR_SUFFIX}`, 'utf8'); } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw Object.assign(new Error(`cannot read the sidecar of ${path}: ${e.message}`), { kind: 'io', guid: null });
  }
  try {
    const s = JSON.parse(text);
    if (typeof s?.sha256 !== 'string') throw new Error('no sha256');
    return s;
  } catch (e) {
    throw Object.assign(new Error(`${path}${SIDECAR_SUFFIX} is not a mesbackup sidecar file: ${e.message}`), { kind: 'invalid_argument', guid: null });
  }
}

async function fileSource(path) {
  let st;
  try { st = await stat(path); } catch (e) { throw Object.assign(new Error(`cannot read ${path}: ${e.message}`), { kind: 'io', guid: null }); }
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
  } finally { stream.destroy(); }
}

/** What the package file at `path` holds (see inspect()). */
export async function inspectFile(path, options = {}) {
  const { stream, size } = await fileSource(path);
  try { return await inspect(stream, { ...options, total: size }); } finally { stream.destroy(); }
}
