// mesbackup: back up the ClickHouse databases of a Critical Manufacturing MES (Node >= 20, browsers).
// A thin layer over the WebAssembly build of the Rust core and driver: every protocol decision
// (polling, one-shot downloads, names, errors) is made there, the same as in every other front end.

import { directorySink, downloadSink, writableSink } from './sinks.js';
import initWasm, * as wasm from './wasm/mesbackup_wasm.js';

export { directorySink, downloadSink, writableSink };

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

// Two WebAssembly modules: wasm/ (Client, names; loaded here, on import) and wasm-verify/ (the
// verifier behind verify(), inspect() and Verifier; loaded on first use, so a page or a script that
// only downloads never fetches or compiles it). In Node the verifier's small JS glue is imported
// with the package and its .wasm is compiled synchronously on first use, so `new Verifier()` works
// there at any time; in browsers verify()/inspect() load it themselves, and `new Verifier()` needs
// `await initVerifier()` (or `await Verifier.create()`) first.
const VERIFY_GLUE = './wasm-verify/mesbackup_verify.js';
const VERIFY_WASM = './wasm-verify/mesbackup_verify_bg.wasm';
let nodeFs;
let verifyGlue;
let verifyLoaded = false;
let verifyReady;

let ready;
/** Loads the WebAssembly module (done once, automatically on import). */
export function init(moduleOrPath) {
  ready ??= (async () => {
    let input = moduleOrPath;
    if (isNode) {
      nodeFs = await import('node:fs');
      verifyGlue = await import(VERIFY_GLUE);
      if (input === undefined)
        input = await nodeFs.promises.readFile(new URL('./wasm/mesbackup_wasm_bg.wasm', import.meta.url));
    }
    await initWasm(input === undefined ? undefined : { module_or_path: input });
  })();
  return ready;
}
await init();

/** Node: compiles the verifier module synchronously (once). */
function loadVerifierNode(moduleOrBytes) {
  if (!verifyLoaded) {
    verifyGlue.initSync({ module: moduleOrBytes ?? nodeFs.readFileSync(new URL(VERIFY_WASM, import.meta.url)) });
    verifyLoaded = true;
  }
}

/**
 * Loads the verifier module (verify(), inspect(), Verifier); done once, automatically on the first
 * verify()/inspect(). `moduleOrPath`: like init()'s (a URL, a Response, bytes or a WebAssembly.Module
 * of `wasm-verify/mesbackup_verify_bg.wasm`); by default it is fetched next to the package.
 */
export function initVerifier(moduleOrPath) {
  verifyReady ??= (async () => {
    if (isNode) {
      let input = moduleOrPath;
      if (typeof input === 'string' || input instanceof URL) input = await nodeFs.promises.readFile(input);
      loadVerifierNode(input);
      return;
    }
    verifyGlue ??= await import(VERIFY_GLUE);
    await verifyGlue.default(moduleOrPath === undefined ? undefined : { module_or_path: moduleOrPath });
    verifyLoaded = true;
  })();
  verifyReady.catch(() => {
    verifyReady = undefined;
  }); // a failed load (network) is retried next time
  return verifyReady;
}

/** The verifier module's exports, loaded; throws when a browser has not loaded it yet. */
function verifierModule() {
  if (!verifyLoaded && isNode) loadVerifierNode();
  if (!verifyLoaded) {
    throw Object.assign(
      new Error(
        'the verifier module is not loaded yet: await initVerifier() (or use await Verifier.create()) before new Verifier(); verify() and inspect() load it themselves',
      ),
      { name: 'MesBackupError', kind: 'invalid_argument', guid: null },
    );
  }
  return verifyGlue;
}

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
/** snake_case keys (the core's serde names) to camelCase, recursively. */
function camelize(v) {
  if (Array.isArray(v)) return v.map(camelize);
  if (v && typeof v === 'object' && !(v instanceof Error)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[camel(k)] = camelize(x);
    return out;
  }
  return v;
}

/** Accepts a SinkFactory, a WritableStream, or a function returning one. */
function toSinkFactory(sink) {
  if (sink == null)
    throw Object.assign(
      new TypeError('a sink is required: a WritableStream, directorySink(...), or fileSink(dir) from "mesbackup/node"'),
      { kind: 'invalid_argument', guid: null },
    );
  if (typeof sink.open === 'function') return sink;
  if (typeof sink.getWriter === 'function' || typeof sink === 'function') return writableSink(sink);
  if (typeof sink.getFileHandle === 'function') return directorySink(sink);
  throw Object.assign(new TypeError('unsupported sink'), { kind: 'invalid_argument', guid: null });
}

function eventHandler({ onEvent, onProgress } = {}) {
  if (!onEvent && !onProgress) return undefined;
  return (raw) => {
    const e = camelize(raw);
    if (e.databaseName) {
      e.database ??= e.databaseName;
      delete e.databaseName;
    }
    try {
      onEvent?.(e);
      if (e.event === 'progress') onProgress?.(e);
    } catch {
      /* a callback's exception must not break the backup */
    }
  };
}

function callOptions(o = {}) {
  return {
    fileName: o.fileName ?? undefined,
    overwrite: o.overwrite ?? undefined,
    jitterSeed: o.jitterSeed ?? undefined,
  };
}

function result(raw) {
  const r = camelize(raw);
  if (r.outcome === 'saved') {
    const { outcome, saved, ...rest } = r;
    return { outcome, ...(saved ?? rest) };
  }
  return r;
}

// Old spellings, accepted for one release: each is translated to its new name and said once per
// process with console.warn (the same words as the CLI's stderr and Python's DeprecationWarning).
const warnedOnce = new Set();
function deprecated(old, instead) {
  if (warnedOnce.has(old)) return;
  warnedOnce.add(old);
  console.warn(`mesbackup: ${old} is deprecated and will be removed in the next release: ${instead}`);
}
const RENAMED_OPTIONS = [
  ['pollMinMs', 'minPollDelayMs'],
  ['pollMaxMs', 'maxPollDelayMs'],
  ['retryBaseMs', 'retryDelayMs'],
];
/** Client options with the old names moved to the new ones (a new name given too wins). */
function clientOptions(options) {
  if (options === null || typeof options !== 'object') return options;
  let out = options;
  for (const [old, now] of RENAMED_OPTIONS) {
    if (options[old] === undefined) continue;
    deprecated(old, `use ${now}`);
    if (out === options) out = { ...options };
    out[now] ??= options[old];
    delete out[old];
  }
  return out;
}
/** `genericNames`, or its deprecated opposite `systemPrefix`. */
function genericNamesOf({ genericNames, systemPrefix } = {}) {
  if (systemPrefix === undefined) return genericNames ?? false;
  deprecated('systemPrefix', 'the system-specific names are the default; use genericNames: true for the others');
  return genericNames ?? !systemPrefix;
}
// Where MES_TOKEN, MES_USER and MES_PAT are looked up when no credentials are given: the process
// environment in Node; nothing in a browser.
const credentialEnv = () => (isNode ? process.env : undefined);

/** Installer package names for a system's databases (database -> name). */
function installerNames(system, version, options = {}) {
  if (typeof options === 'boolean') options = { systemPrefix: options };
  const generic = genericNamesOf(options);
  const out = {};
  for (const { database } of wasm.systemDatabases(system))
    out[database] = wasm.installerNameForDatabase(database, version, generic);
  return out;
}

export class Client {
  #inner;
  /**
   * @param {{envUrl: string, token?: string, user?: string, pat?: string, noAuth?: boolean}} options plus
   *   optional minPollDelayMs, maxPollDelayMs, retryDelayMs, timeoutMs, stallTimeoutMs,
   *   requestTimeoutMs, maxConsecutiveFailures, restartBudget, allowInsecureHttp, speedLimit,
   *   speedTimeMs, downloadTimeoutMs, maxSize. Credentials, the first found (every front end's
   *   rule): token; user and pat; in Node MES_TOKEN; MES_USER and MES_PAT.
   */
  constructor(options) {
    this.#inner = new wasm.WasmClient(clientOptions(options), credentialEnv());
  }

  get envUrl() {
    return this.#inner.envUrl;
  }

  async #run(op, target, o = {}) {
    const sink = op === 'start' ? {} : toSinkFactory(o.sink);
    return result(await this.#inner.run(op, target, sink, eventHandler(o), o.signal, callOptions(o)));
  }

  /** POST, wait until ready, download once, save. Resolves to the saved package. */
  backup(database, options) {
    return this.#run('backup', database, options);
  }
  /** POST only: resolves to {outcome: "started", guid, database}. */
  start(database, options = {}) {
    return this.#run('start', database, options);
  }
  /** Waits for a backup started earlier and downloads it (one-shot). */
  download(guid, options) {
    return this.#run('download', guid, options);
  }
  /** Exactly one GET: the saved package, or {outcome: "pending", guid}. */
  downloadIfReady(guid, options) {
    return this.#run('download_if_ready', guid, options);
  }

  /**
   * Backs up the four databases of `system` concurrently. With `version`, each package is saved
   * under its installer name (`<System>.Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip`; generic
   * names with `genericNames: true`); `fileNames` maps database -> name explicitly.
   * Resolves to [{database, ok, result?, error?}] in the order Online, CDM, ODS, DWH; never rejects
   * for one database's failure (check `ok`), only for bad arguments.
   */
  async backupSystem(system, o = {}) {
    if (o.genericNames && !o.version)
      throw Object.assign(new TypeError('genericNames applies to installer names: give version too'), {
        kind: 'invalid_argument',
        guid: null,
      });
    const names = o.fileNames ?? (o.version ? installerNames(system, o.version, o) : {});
    const list = await this.#inner.runSystem(system, toSinkFactory(o.sink), eventHandler(o), o.signal, names);
    return list.map(({ database, result: r, error }) =>
      error ? { database, ok: false, error } : { database, ok: true, result: result(r) },
    );
  }
}

export const installerPackageName = (kind, version, system) =>
  wasm.installerPackageName(kind, version, system ?? undefined);
/** `{file, dir}`: the permission bits for `fileMode` / `dirMode` (octal text or a number such as 0o640; absent: 0o600 / 0o700), checked by the core. */
export const fileModes = (fileMode, dirMode) => wasm.fileModes(octalText(fileMode), octalText(dirMode));
export const mountModeProblem = (actual, wanted, isFolder, refused) =>
  wasm.mountModeProblem(actual, wanted, isFolder, refused);
const octalText = (mode) => (typeof mode === 'number' ? mode.toString(8) : (mode ?? undefined));
export const installerNameForDatabase = (database, version, options = {}) =>
  wasm.installerNameForDatabase(database, version, genericNamesOf(options));
export { installerNames };
export const checkPackageName = (fileName) => wasm.checkPackageName(fileName);
export const parseDatabaseName = (name, system) => wasm.parseDatabaseName(name, system ?? undefined);
export const systemDatabases = (system) => wasm.systemDatabases(system);
export const errorKinds = () => wasm.errorKinds();
export const toolVersion = () => wasm.toolVersion();

// --- Verification: the core's one-pass verifier (zip structure, CRC-32s, the ClickHouse manifest's
// checksums, each part's checksums.txt, SHA-256), fed chunk by chunk: a browser-downloaded `File` or
// a Node file is never held whole in memory.

const invalid = (message) => Object.assign(new TypeError(message), { kind: 'invalid_argument', guid: null });

/** The raw finish() of the wasm verifier as {report, inspection}, camelCase, problems with `message`. */
function shapeFinished(raw) {
  const report = camelize(raw.report);
  report.problems = report.problems.map((p, i) => ({ ...p, message: raw.messages[i] }));
  report.error = raw.error ?? null;
  return { report, inspection: camelize(raw.inspection) };
}

/** Streaming verifier: `feed()` the package's bytes in order (any chunking), then `finish()`. */
export class Verifier {
  #inner;
  /** @param {{expectedSha256?: string | null}} [options] the sidecar's SHA-256, when known. */
  constructor({ expectedSha256 } = {}) {
    this.#inner = new (verifierModule().WasmVerifier)({ expectedSha256: expectedSha256 ?? undefined });
  }
  /** Loads the verifier module when needed (see initVerifier()), then constructs: works everywhere. */
  static async create(options) {
    await initVerifier();
    return new Verifier(options);
  }
  /** Feeds the next bytes (Uint8Array, ArrayBuffer or any ArrayBufferView). */
  feed(chunk) {
    if (!this.#inner) throw invalid('the verifier has already finished');
    if (chunk instanceof ArrayBuffer) chunk = new Uint8Array(chunk);
    else if (ArrayBuffer.isView(chunk) && !(chunk instanceof Uint8Array))
      chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else if (!(chunk instanceof Uint8Array)) throw invalid('feed() takes a Uint8Array');
    this.#inner.feed(chunk);
  }
  /** Bytes fed so far. */
  get bytesFed() {
    return this.#inner ? this.#inner.bytesFed : 0;
  }
  /** Ends the input: {report, inspection} as plain objects. The verifier cannot be fed afterwards. */
  finish() {
    if (!this.#inner) throw invalid('the verifier has already finished');
    const inner = this.#inner;
    this.#inner = null;
    try {
      return shapeFinished(inner.finish());
    } finally {
      inner.free();
    }
  }
}

/** Byte chunks of a Blob/File, a ReadableStream, an async iterable (Node Readable), or bytes. */
async function* chunksOf(source) {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    yield source;
    return;
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) source = source.stream();
  if (source && typeof source.getReader === 'function') {
    const reader = source.getReader();
    let done = false;
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) {
          done = true;
          return;
        }
        yield r.value;
      }
    } finally {
      if (!done) await reader.cancel().catch(() => {});
      reader.releaseLock?.();
    }
  }
  if (source && typeof source[Symbol.asyncIterator] === 'function') {
    yield* source;
    return;
  }
  if (typeof source === 'string')
    throw invalid('a path can only be verified in Node: use verifyFile(path) from "mesbackup/node"');
  throw invalid('unsupported source: give a Blob/File, a ReadableStream<Uint8Array>, or bytes');
}

function cancelled(signal) {
  const reason = signal.reason;
  const msg = reason instanceof Error && reason.message ? reason.message : 'cancelled';
  return Object.assign(new Error(`verification cancelled: ${msg}`), {
    name: 'MesBackupError',
    kind: 'cancelled',
    guid: null,
  });
}

/** Reads `source` through a Verifier; the shared part of verify() and inspect(). */
async function run(source, { expectedSha256, onProgress, signal, total } = {}) {
  await initVerifier();
  const v = new Verifier({ expectedSha256 });
  if (total === undefined && typeof Blob !== 'undefined' && source instanceof Blob) total = source.size;
  try {
    for await (const chunk of chunksOf(source)) {
      if (signal?.aborted) throw cancelled(signal);
      v.feed(chunk);
      if (onProgress) {
        try {
          onProgress({ bytes: v.bytesFed, total: total ?? null });
        } catch {
          /* a callback's exception must not break verification */
        }
      }
    }
    if (signal?.aborted) throw cancelled(signal);
    return v.finish();
  } catch (e) {
    try {
      v.finish();
    } catch {
      /* frees the wasm side */
    }
    throw e;
  }
}

/** The report of verify(): the integrity `Error` of `throwOnError`. */
export function integrityError(report) {
  return Object.assign(new Error(report.error ?? 'the package is damaged'), {
    name: 'MesBackupError',
    kind: 'integrity',
    guid: null,
    report,
  });
}

/**
 * Verifies a package: resolves to the report `{ok, problems: [{kind, message, ...}], sha256, ...,
 * inspection}`. A damaged package does not reject unless `throwOnError: true` (then an `Error` with
 * kind `integrity`, naming the file, with `.report`).
 */
export async function verify(source, options = {}) {
  const { report, inspection } = await run(source, options);
  const out = { ...report, inspection };
  if (options.throwOnError && !out.ok) throw integrityError(out);
  return out;
}

/** What a package holds (databases, tables, parts, rows), plus `ok` and `problems` of the same pass. */
export async function inspect(source, options = {}) {
  const { report, inspection } = await run(source, options);
  return { ...inspection, ok: report.ok, problems: report.problems };
}
