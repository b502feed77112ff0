// mesbackup: back up the ClickHouse databases of a Critical Manufacturing MES (Node >= 20, browsers).
// A thin layer over the WebAssembly build of the Rust core and driver: every protocol decision
// (polling, one-shot downloads, names, errors) is made there, the same as in every other front end.
import initWasm, * as wasm from './wasm/mesbackup_wasm.js';
import { writableSink, directorySink, downloadSink } from './sinks.js';

export { writableSink, directorySink, downloadSink };

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

let ready;
/** Loads the WebAssembly module (done once, automatically on import). */
export function init(moduleOrPath) {
  ready ??= (async () => {
    let input = moduleOrPath;
    if (input === undefined && isNode) {
      const { readFile } = await import('node:fs/promises');
      input = await readFile(new URL('./wasm/mesbackup_wasm_bg.wasm', import.meta.url));
    }
    await initWasm(input === undefined ? undefined : { module_or_path: input });
  })();
  return ready;
}
await init();

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
  if (sink == null) throw Object.assign(new TypeError('a sink is required: a WritableStream, directorySink(...), or fileSink(dir) from "mesbackup/node"'), { kind: 'invalid_argument', guid: null });
  if (typeof sink.open === 'function') return sink;
  if (typeof sink.getWriter === 'function' || typeof sink === 'function') return writableSink(sink);
  if (typeof sink.getFileHandle === 'function') return directorySink(sink);
  throw Object.assign(new TypeError('unsupported sink'), { kind: 'invalid_argument', guid: null });
}

function eventHandler({ onEvent, onProgress } = {}) {
  if (!onEvent && !onProgress) return undefined;
  return (raw) => {
    const e = camelize(raw);
    if (e.databaseName) { e.database ??= e.databaseName; delete e.databaseName; }
    try {
      onEvent?.(e);
      if (e.event === 'progress') onProgress?.(e);
    } catch { /* a callback's exception must not break the backup */ }
  };
}

function callOptions(o = {}) {
  return { fileName: o.fileName ?? undefined, overwrite: o.overwrite ?? undefined, jitterSeed: o.jitterSeed ?? undefined };
}

function result(raw) {
  const r = camelize(raw);
  if (r.outcome === 'saved') {
    const { outcome, saved, ...rest } = r;
    return { outcome, ...(saved ?? rest) };
  }
  return r;
}

/** Installer package names for a system's databases (database -> name). */
function installerNames(system, version, systemPrefix = true) {
  const out = {};
  for (const { database } of wasm.systemDatabases(system)) out[database] = wasm.installerNameForDatabase(database, version, systemPrefix);
  return out;
}

export class Client {
  #inner;
  /**
   * @param {{envUrl: string, token?: string, user?: string, pat?: string}} options plus optional
   *   pollMinMs, pollMaxMs, retryBaseMs, timeoutMs, stallTimeoutMs, requestTimeoutMs,
   *   maxConsecutiveFailures, restartBudget, allowInsecureHttp.
   */
  constructor(options) { this.#inner = new wasm.WasmClient(options); }

  get envUrl() { return this.#inner.envUrl; }

  async #run(op, target, o = {}) {
    const sink = op === 'start' ? {} : toSinkFactory(o.sink);
    return result(await this.#inner.run(op, target, sink, eventHandler(o), o.signal, callOptions(o)));
  }

  /** POST, wait until ready, download once, save. Resolves to the saved package. */
  backup(database, options) { return this.#run('backup', database, options); }
  /** POST only: resolves to {outcome: "started", guid, database}. */
  start(database, options = {}) { return this.#run('start', database, options); }
  /** Waits for a backup started earlier and downloads it (one-shot). */
  download(guid, options) { return this.#run('download', guid, options); }
  /** Exactly one GET: the saved package, or {outcome: "pending", guid}. */
  downloadIfReady(guid, options) { return this.#run('download_if_ready', guid, options); }

  /**
   * Backs up the four databases of `system` concurrently. With `version`, each package is saved
   * under its installer name (`<System>.Cmf.ClickHouse.FullBackup.<Kind>.<version>.zip`; generic
   * names with `systemPrefix: false`); `fileNames` maps database -> name explicitly.
   * Resolves to [{database, ok, result?, error?}] in the order Online, CDM, ODS, DWH; never rejects
   * for one database's failure (check `ok`), only for bad arguments.
   */
  async backupSystem(system, o = {}) {
    const names = o.fileNames ?? (o.version ? installerNames(system, o.version, o.systemPrefix ?? true) : {});
    const list = await this.#inner.runSystem(system, toSinkFactory(o.sink), eventHandler(o), o.signal, names);
    return list.map(({ database, result: r, error }) => (error ? { database, ok: false, error } : { database, ok: true, result: result(r) }));
  }
}

export const installerPackageName = (kind, version, system) => wasm.installerPackageName(kind, version, system ?? undefined);
export const installerNameForDatabase = (database, version, { systemPrefix = true } = {}) => wasm.installerNameForDatabase(database, version, systemPrefix);
export { installerNames };
export const checkPackageName = (fileName) => wasm.checkPackageName(fileName);
export const parseDatabaseName = (name, system) => wasm.parseDatabaseName(name, system ?? undefined);
export const systemDatabases = (system) => wasm.systemDatabases(system);
export const errorKinds = () => wasm.errorKinds();
export const toolVersion = () => wasm.toolVersion();
