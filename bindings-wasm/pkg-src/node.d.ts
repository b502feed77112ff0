import type { Writable } from 'node:stream';
import type { SinkFactory } from './index.js';

/** The end of fileSink's temporary file names. Node cannot lock files, so they are not `.mesbackup-partial`: the CLI and Python, which remove such files when their lock can be taken, never touch these. */
export const PARTIAL_SUFFIX: '.mesbackup-node-partial';
/**
 * Saves packages in `dir`: temporary file, fsync, no-clobber rename, sidecar beside it. Files get
 * exactly `fileMode`, folders it creates (`create: true`) `dirMode`: octal text ("0640") or numbers
 * (0o640), default 0o600 / 0o700. On Windows files and folders inherit the folder's ACL instead. Its
 * `prepare()` (called by the client before any request) checks that the folder exists (created with
 * `dirMode` when `create: true`), is a folder, takes a new file and is not on a read-only file
 * system; `open()` refuses a package larger than the free space before writing any byte.
 */
export function fileSink(
  dir: string,
  options?: { create?: boolean; fileMode?: string | number; dirMode?: string | number },
): SinkFactory & { prepare(): Promise<void> };
/** A Node Writable as a sink (through Writable.toWeb). */
export function nodeWritableSink(
  writable: Writable,
  options?: { onSidecar?: (fileName: string, json: string) => void | Promise<void> },
): SinkFactory;

import type { InspectResult, VerifyOptions, VerifyResult } from './index.js';

/** The `<path>.mesbackup.json` sidecar, parsed; null when absent. */
export function readSidecar(
  path: string,
): Promise<({ sha256: string; size: number; file_name?: string } & Record<string, unknown>) | null>;
/**
 * Verifies the package file at `path`, with the sidecar's SHA-256 as expected (unless `expectedSha256`
 * is given, or `sidecar: false`). `sidecar` in the result is the sidecar's path, or null.
 */
export function verifyFile(
  path: string,
  options?: Omit<VerifyOptions, 'total'> & { sidecar?: boolean },
): Promise<VerifyResult & { path: string; sidecar: string | null }>;
/** What the package file at `path` holds. */
export function inspectFile(
  path: string,
  options?: Omit<VerifyOptions, 'throwOnError' | 'total'>,
): Promise<InspectResult>;
