import type { Writable } from 'node:stream';
import type { SinkFactory } from './index.js';

export const PARTIAL_SUFFIX: '.mesbackup-partial';
/**
 * Saves packages in `dir`: temporary file, fsync, no-clobber rename, sidecar beside it. Its
 * `prepare()` (called by the client before any request) checks that the folder exists (created
 * owner-only with `create: true`), is a folder, takes a new file and is not on a read-only file
 * system; `open()` refuses a package larger than the free space before writing any byte.
 */
export function fileSink(dir: string, options?: { create?: boolean }): SinkFactory & { prepare(): Promise<void> };
/** A Node Writable as a sink (through Writable.toWeb). */
export function nodeWritableSink(writable: Writable, options?: { onSidecar?: (fileName: string, json: string) => void | Promise<void> }): SinkFactory;
import type { VerifyOptions, VerifyResult, InspectResult } from './index.js';

/** The `<path>.mesbackup.json` sidecar, parsed; null when absent. */
export function readSidecar(path: string): Promise<({ sha256: string; size: number; file_name?: string } & Record<string, unknown>) | null>;
/**
 * Verifies the package file at `path`, with the sidecar's SHA-256 as expected (unless `expectedSha256`
 * is given, or `sidecar: false`). `sidecar` in the result is the sidecar's path, or null.
 */
export function verifyFile(path: string, options?: Omit<VerifyOptions, 'total'> & { sidecar?: boolean }): Promise<VerifyResult & { path: string; sidecar: string | null }>;
/** What the package file at `path` holds. */
export function inspectFile(path: string, options?: Omit<VerifyOptions, 'throwOnError' | 'total'>): Promise<InspectResult>;
