import type { Writable } from 'node:stream';
import type { SinkFactory } from './index.js';

export const PARTIAL_SUFFIX: '.mesbackup-partial';
/** Saves packages in `dir`: temporary file, fsync, no-clobber rename, sidecar beside it. */
export function fileSink(dir: string, options?: { create?: boolean }): SinkFactory;
/** A Node Writable as a sink (through Writable.toWeb). */
export function nodeWritableSink(writable: Writable, options?: { onSidecar?: (fileName: string, json: string) => void | Promise<void> }): SinkFactory;
