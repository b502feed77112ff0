// Types of the npm package `mesbackup` (ESM). See README.md for examples.

/** Canonical error kinds, shared by every mesbackup front end. */
export type ErrorKind =
  | 'invalid_argument'
  | 'unauthorized'
  | 'forbidden'
  | 'invalid_database'
  | 'backup_not_found'
  | 'server_error'
  | 'unexpected_response'
  | 'timeout'
  | 'download_lost'
  | 'integrity'
  | 'io'
  | 'network'
  | 'cancelled'
  | 'internal';

/** What every rejection of this package is: an Error with the canonical kind and the GUID, if any. */
export interface MesBackupError extends Error {
  kind: ErrorKind;
  /** The backup's GUID when one was known (e.g. `timeout`: resume with `download(guid)`). */
  guid: string | null;
}

/**
 * Credentials, the first found (the rule of every mesbackup front end, decided in the core): `token`;
 * `user` and `pat`; in Node the environment variable MES_TOKEN; MES_USER and MES_PAT. A token and a
 * user/PAT from the same place are refused; none at all is an `invalid_argument` naming every way to
 * give them, unless `noAuth: true` (a test server).
 */
export type Credentials =
  | { token: string; user?: never; pat?: never; noAuth?: false }
  | { user: string; pat: string; token?: never; noAuth?: false }
  | { noAuth: true; token?: never; user?: never; pat?: never }
  | { token?: never; user?: never; pat?: never; noAuth?: false };

export type ClientOptions = Credentials & {
  /** The MES environment's API address, e.g. https://mes.example.com/api (path prefix allowed). */
  envUrl: string;
  /** Shortest / longest wait between two polls of a pending backup (default 1 s / 30 min). */
  minPollDelayMs?: number;
  maxPollDelayMs?: number;
  /** First wait after a transient failure (503, connection refused); doubles each time (default 1 s). */
  retryDelayMs?: number;
  /** @deprecated since the one vocabulary: `minPollDelayMs` (accepted for one release, with a warning). */
  pollMinMs?: number;
  /** @deprecated since the one vocabulary: `maxPollDelayMs` (accepted for one release, with a warning). */
  pollMaxMs?: number;
  /** @deprecated since the one vocabulary: `retryDelayMs` (accepted for one release, with a warning). */
  retryBaseMs?: number;
  maxConsecutiveFailures?: number;
  /** Overall deadline for the backup to become ready (default 24 h); then `timeout` with the GUID. */
  timeoutMs?: number;
  /** A download receiving nothing this long is lost (default 120 s). */
  stallTimeoutMs?: number;
  /**
   * Low-speed limit, as curl's --speed-limit/--speed-time: a download averaging under `speedLimit`
   * bytes per second over `speedTimeMs` is abandoned (`download_lost`). Defaults 1024 and 120000;
   * `speedLimit: 0` disables it.
   */
  speedLimit?: number;
  speedTimeMs?: number;
  /** The longest a download may take from its first byte (default: no limit). */
  downloadTimeoutMs?: number;
  /**
   * Size cap in bytes (default 1 TiB): a Content-Length over it is refused before anything is
   * written, a body without one is abandoned once past it (`download_lost`).
   */
  maxSize?: number;
  /** Deadline for one response's status and headers (default 120 s). */
  requestTimeoutMs?: number;
  /** New backups (POSTs) allowed after a one-shot download broke (default 0). */
  restartBudget?: number;
  /** Send credentials over plain http:// to a host other than this machine. */
  allowInsecureHttp?: boolean;
};

/** Where a package's bytes go. The driver hashes and names; a sink only stores. */
export interface PackageSink {
  write(chunk: Uint8Array): void | Promise<void>;
  /** All bytes are in: flush, make durable; the byte count (or, with `computesSha256`, `{bytes, sha256}`). */
  finish(): number | Promise<number> | { bytes: number; sha256: string } | Promise<{ bytes: number; sha256: string }>;
  /**
   * Optional, read once after open(): true when this sink computes the SHA-256 of exactly the bytes
   * given to write(), in order (e.g. with node:crypto, much faster than the driver's WebAssembly
   * SHA-256). finish() must then resolve to `{bytes, sha256}` (64 lowercase hex digits); the driver
   * skips its own hashing and fails the download when `bytes` differs from what it streamed.
   */
  readonly computesSha256?: boolean;
  /**
   * Optional, read once after open(): true when write() copies the bytes before it returns and
   * neither keeps, modifies nor transfers the chunk. The sink is then given the `Uint8Array` fetch
   * delivered itself (the driver reads the last ones again to check the package's end); otherwise
   * each write() gets a copy of its own, which the sink may keep, modify or transfer.
   */
  readonly copiesChunks?: boolean;
  /** Give the bytes their final name (never replacing an existing file unless `overwrite`) and
   * store the sidecar JSON; where the package is now, or null when the name is taken. */
  commit(fileName: string, overwrite: boolean, sidecarJson: string): string | null | Promise<string | null>;
  /** Drop the temporary bytes (or keep them under `keepAs`, for diagnosis). */
  discard(keepAs: string | null): void | Promise<void>;
}
export interface SinkFactory {
  /**
   * Optional: checks that a package could be stored at all, before anything is asked of the MES
   * (before the backup request, and before the first request of a download, whose answer may be
   * the one-shot package). Reject (ideally with `kind: 'io'`) to end the job with `io` before any
   * request is sent. Node's `fileSink` checks its folder exists (or creates it with `create: true`),
   * is a folder, takes a new file and is not on a read-only file system; browser sinks have none.
   */
  prepare?(): void | Promise<void>;
  open(fileName: string, expectedLength: number | null): PackageSink | Promise<PackageSink>;
}
export type SinkLike =
  | SinkFactory
  | WritableStream<Uint8Array>
  | ((
      fileName: string,
      expectedLength: number | null,
    ) => WritableStream<Uint8Array> | Promise<WritableStream<Uint8Array>>)
  | FileSystemDirectoryHandle;

export interface SavedPackage {
  outcome: 'saved';
  guid: string;
  database: string | null;
  fileName: string;
  /** A path (fileSink), or the name (stream sinks). */
  location: string;
  sidecarFileName: string;
  size: number;
  sha256: string;
  startedAtMs: number | null;
  readyAtMs: number | null;
  finishedAtMs: number;
  notes: string[];
}
export interface Started {
  outcome: 'started';
  guid: string;
  database: string;
}
export interface Pending {
  outcome: 'pending';
  guid: string;
}

export type JobEvent =
  | { event: 'started'; database: string; guid: string; atMs: number }
  | { event: 'pending'; guid: string; polls: number; waitedMs: number; nextPollInMs: number; database?: string }
  | { event: 'retrying'; guid: string | null; reason: string; failures: number; delayMs: number; database?: string }
  | { event: 'ready'; guid: string; fileName: string; size: number | null; database?: string }
  | { event: 'progress'; guid: string; bytes: number; total: number | null; database?: string }
  | { event: 'warning'; guid: string | null; message: string; database?: string }
  | {
      event: 'restarting';
      lostGuid: string;
      restartsUsed: number;
      restartBudget: number;
      reason: string;
      database?: string;
    }
  | { event: 'saved'; package: Omit<SavedPackage, 'outcome'>; database?: string }
  | { event: 'failed'; error: { kind: ErrorKind; message: string; guid: string | null }; database?: string };

export interface RunOptions {
  sink: SinkLike;
  /** Every job event (started, pending, ready, progress, saved, ...). */
  onEvent?: (event: JobEvent) => void;
  /** Progress events only (at most every 250 ms). */
  onProgress?: (event: Extract<JobEvent, { event: 'progress' }>) => void;
  /** Cancels: the promise rejects with kind `cancelled`; nothing partial is left behind. */
  signal?: AbortSignal;
  /** Save under this name (e.g. an installer package name) instead of the server's. */
  fileName?: string;
  overwrite?: boolean;
}

export interface SystemOptions extends Omit<RunOptions, 'fileName'> {
  /** MES version: save each package under its installer name, the system-specific one
   * (`<System>.Cmf…`, which the installer prefers) unless `genericNames`. */
  version?: string;
  /** With `version`: the generic `Cmf…` names instead of the system-specific ones. */
  genericNames?: boolean;
  /** @deprecated since the one vocabulary: `genericNames: !systemPrefix` (accepted for one release, with a warning). */
  systemPrefix?: boolean;
  /** Explicit names, database -> file name. */
  fileNames?: Record<string, string>;
}

export type SystemResult =
  | { database: string; ok: true; result: SavedPackage }
  | { database: string; ok: false; error: MesBackupError };

export class Client {
  constructor(options: ClientOptions);
  readonly envUrl: string;
  backup(database: string, options: RunOptions): Promise<SavedPackage>;
  backupSystem(system: string, options: SystemOptions): Promise<SystemResult[]>;
  start(database: string, options?: Pick<RunOptions, 'signal' | 'onEvent'>): Promise<Started>;
  download(guid: string, options: RunOptions): Promise<SavedPackage>;
  downloadIfReady(guid: string, options: RunOptions): Promise<SavedPackage | Pending>;
}

export type DatabaseKind = 'Online' | 'CDM' | 'ODS' | 'DWH';
export type PackageNameCheck =
  | { ok: true; system: string | null; kind: DatabaseKind; version: string; fileName: string }
  | {
      ok: false;
      reason:
        | 'not_a_package'
        | 'wrong_case'
        | 'unknown_kind'
        | 'missing_version'
        | 'bad_version'
        | 'extra_suffix'
        | 'wrong_extension'
        | 'renamed'
        | 'bad_system_prefix';
      message: string;
      /** The exact name the installer would accept, when it can be inferred. */
      expected: string | null;
    };

export function installerPackageName(kind: DatabaseKind, version: string, system?: string | null): string;
/** The permission bits for `fileMode` / `dirMode` (octal text like "0640", or a number like 0o640; absent: 0o600 / 0o700), checked by the core. Throws an `invalid_argument` error for a mode that would expose or lose data. */
export function fileModes(
  fileMode?: string | number | null,
  dirMode?: string | number | null,
): { file: number; dir: number };
/** Where the file system refused a chmod (FAT, exFAT, SMB without Unix extensions): the problem with the mode `actual` it gave a new file or folder, or undefined when that mode lets group and others do no more than `wanted`. */
export function mountModeProblem(
  actual: number,
  wanted: number,
  isFolder: boolean,
  refused: string,
): string | undefined;
/** Options of the installer names: the system-specific name (default) or the generic one. */
export interface NamingOptions {
  genericNames?: boolean;
  /** @deprecated since the one vocabulary: `genericNames: !systemPrefix` (accepted for one release, with a warning). */
  systemPrefix?: boolean;
}
export function installerNameForDatabase(database: string, version: string, options?: NamingOptions): string;
/** `systemPrefix` as a boolean third argument is deprecated (accepted for one release, with a warning). */
export function installerNames(
  system: string,
  version: string,
  options?: NamingOptions | boolean,
): Record<string, string>;
/** What the MES installer makes of a file name, and why not. */
export function checkPackageName(fileName: string): PackageNameCheck;
export function parseDatabaseName(name: string, system?: string | null): { system: string; kind: DatabaseKind };
export function systemDatabases(system: string): { kind: DatabaseKind; database: string }[];
export function errorKinds(): ErrorKind[];
export function toolVersion(): string;

export function writableSink(
  target:
    | WritableStream<Uint8Array>
    | ((
        fileName: string,
        expectedLength: number | null,
      ) => WritableStream<Uint8Array> | Promise<WritableStream<Uint8Array>>),
  options?: { onSidecar?: (fileName: string, json: string) => void | Promise<void> },
): SinkFactory;
export function directorySink(dir: FileSystemDirectoryHandle, options?: { sidecar?: boolean }): SinkFactory;
export function downloadSink(options?: { document?: Document; sidecar?: boolean }): SinkFactory;
/** Loads the WebAssembly module; done automatically when the package is imported. */
export function init(moduleOrPath?: unknown): Promise<void>;

// --- Verification (the core's one-pass verifier; streamed, never held whole)

/** One problem found; `kind` is the core's (snake_case), `message` names the file or entry. */
export interface Problem {
  kind:
    | 'crc_mismatch'
    | 'size_mismatch'
    | 'checksum_mismatch'
    | 'missing'
    | 'unlisted'
    | 'part_checksum_mismatch'
    | 'bad_part_checksums'
    | 'no_manifest'
    | 'bad_manifest'
    | 'truncated'
    | 'sha256_mismatch'
    | 'unsafe_name'
    | 'unsafe_manifest_path'
    | 'special_entry'
    | 'no_checksum'
    | 'duplicate_entry'
    | 'corrupt'
    | 'central_directory_mismatch'
    | 'unsupported';
  message: string;
  /** The file or zip entry concerned, when the kind has one. */
  file?: string;
  entry?: string;
  expected?: string | number;
  actual?: string | number;
  against?: string;
  detail?: string;
  partChecksums?: string;
  /** For `unsafe_name` / `unsafe_manifest_path`: why the path is refused (e.g. `parent_folder`, `empty_component`). */
  reason?: string;
}

export interface ManifestInfo {
  path: string;
  version: string | null;
  timestamp: string | null;
  uuid: string | null;
  files: number;
  bytes: number;
}

export interface VerifyReport {
  ok: boolean;
  problems: Problem[];
  /** Hex SHA-256 of the package. */
  sha256: string | null;
  bytes: number;
  entries: number;
  backupRoot: string | null;
  manifest: ManifestInfo | null;
  filesChecked: number;
  partFilesChecked: number;
  partsChecked: number;
  notes: string[];
  /** The integrity error message (first problem, naming the file), or null when ok. */
  error: string | null;
}

export interface TableInfo {
  database: string;
  name: string;
  kind: string;
  engine: string | null;
  engineName: string | null;
  orderBy: string | null;
  partitionBy: string | null;
  primaryKey: string | null;
  storagePolicy: string | null;
  disk: string | null;
  requiredPolicy: string | null;
  uuid: string | null;
  parts: number;
  rows: number;
  bytes: number;
}

export interface DatabaseInfo {
  name: string;
  engine: string | null;
  uuid: string | null;
  tables: TableInfo[];
  parts: number;
  rows: number;
  bytes: number;
}

export interface Inspection {
  backupRoot: string | null;
  timestamp: string | null;
  uuid: string | null;
  databases: DatabaseInfo[];
  storagePolicies: string[];
  disks: string[];
  tables: number;
  parts: number;
  rows: number;
  bytes: number;
  notes: string[];
}

/** What verify() reads: a Blob/File, a ReadableStream, a Node Readable (async iterable), or bytes. */
export type VerifySource = Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Uint8Array | ArrayBuffer;

export interface VerifyOptions {
  /** The sidecar's SHA-256: a difference is a `sha256_mismatch` problem. */
  expectedSha256?: string | null;
  onProgress?: (p: { bytes: number; total: number | null }) => void;
  signal?: AbortSignal;
  /** Reject with an `Error` of kind `integrity` (with `.report`) instead of resolving a failed report. */
  throwOnError?: boolean;
  /** Total size, for onProgress (known for a Blob). */
  total?: number;
}

export interface VerifyResult extends VerifyReport {
  inspection: Inspection;
}
export interface InspectResult extends Inspection {
  ok: boolean;
  problems: Problem[];
}
export interface IntegrityError extends MesBackupError {
  kind: 'integrity';
  report: VerifyResult;
}

/**
 * Loads the verifier's WebAssembly module (a second module, so that downloads never load it); done
 * automatically by the first verify()/inspect(). In browsers, `new Verifier()` needs it loaded:
 * `await initVerifier()` first, or use `await Verifier.create()`. In Node it loads synchronously.
 */
export function initVerifier(moduleOrPath?: unknown): Promise<void>;

/**
 * Streaming verifier: feed() the bytes in order (any chunking), then finish() once. The constructor
 * throws (kind `invalid_argument`) in a browser before the verifier module is loaded (see initVerifier()).
 */
export class Verifier {
  constructor(options?: { expectedSha256?: string | null });
  /** Loads the verifier module when needed, then constructs (works before initVerifier()). */
  static create(options?: { expectedSha256?: string | null }): Promise<Verifier>;
  feed(chunk: Uint8Array | ArrayBuffer | ArrayBufferView): void;
  readonly bytesFed: number;
  finish(): { report: VerifyReport; inspection: Inspection };
}

/** Verifies a package; resolves to the report even when it is damaged (unless `throwOnError`). */
export function verify(source: VerifySource, options?: VerifyOptions): Promise<VerifyResult>;
/** What a package holds (databases, tables, parts, rows), with `ok`/`problems` of the same pass. */
export function inspect(source: VerifySource, options?: Omit<VerifyOptions, 'throwOnError'>): Promise<InspectResult>;
/** The `Error` (kind `integrity`) thrown for a failed report. */
export function integrityError(report: VerifyResult): IntegrityError;
