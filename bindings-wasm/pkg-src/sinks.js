// Sinks that work in browsers and Node: a WritableStream, a File System Access folder, a download.
// Each is a SinkFactory: open(fileName, expectedLength) -> PackageSink with write/finish/commit/discard
// (see index.d.ts). The WASM driver hashes the bytes and decides names; sinks only store.

const PARTIAL = '.mesbackup-partial';
const tag = () =>
  Math.floor(Math.random() * 0x100000000)
    .toString(16)
    .padStart(8, '0');

/**
 * A WritableStream sink. `target` is a WritableStream (one download only) or a function
 * `(fileName, expectedLength) => WritableStream | Promise<WritableStream>` (called per download, e.g.
 * a restart after a lost stream). `onSidecar(fileName, json)` receives the sidecar record.
 */
export function writableSink(target, { onSidecar } = {}) {
  let used = false;
  return {
    async open(fileName, expectedLength) {
      let stream;
      if (typeof target === 'function') stream = await target(fileName, expectedLength);
      else {
        if (used)
          throw new Error(
            'this WritableStream already received a download; pass a function that returns a new stream per download',
          );
        used = true;
        stream = target;
      }
      const writer = stream.getWriter();
      let bytes = 0;
      let committedName = fileName;
      return {
        async write(chunk) {
          await writer.ready;
          bytes += chunk.byteLength;
          await writer.write(chunk);
        },
        async finish() {
          await writer.close();
          return bytes;
        },
        async commit(name, _overwrite, sidecarJson) {
          committedName = name;
          if (onSidecar) await onSidecar(name, sidecarJson);
          return committedName;
        },
        async discard() {
          try {
            await writer.abort(new Error('download abandoned'));
          } catch {
            /* already closed */
          }
        },
      };
    },
  };
}

async function exists(dir, name) {
  try {
    await dir.getFileHandle(name);
    return true;
  } catch (e) {
    if (e && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError')) return e.name === 'TypeMismatchError';
    throw e;
  }
}

/**
 * A File System Access folder (`showDirectoryPicker()` in Chromium, or OPFS via
 * `navigator.storage.getDirectory()`). Writes go through `createWritable()`, which stages the bytes
 * in a swap file and only replaces the target on close: a broken download never leaves a partial
 * package under its final name. An existing file is never replaced unless `overwrite`. The sidecar
 * is saved beside the package unless `sidecar: false`.
 */
export function directorySink(dir, { sidecar = true } = {}) {
  return {
    async open(fileName) {
      // Write straight to the final name when it is free (the swap file makes that atomic);
      // otherwise to a hidden temporary name, moved on commit.
      const direct = !(await exists(dir, fileName));
      const name = direct ? fileName : `.${fileName}.${tag()}${PARTIAL}`;
      const handle = await dir.getFileHandle(name, { create: true });
      const writable = await handle.createWritable({ keepExistingData: false });
      let bytes = 0;
      let closed = false;
      let current = name;
      const removeCurrent = async () => {
        try {
          await dir.removeEntry(current);
        } catch {
          /* gone */
        }
      };
      return {
        async write(chunk) {
          bytes += chunk.byteLength;
          await writable.write(chunk);
        },
        async finish() {
          await writable.close();
          closed = true;
          return bytes;
        },
        async commit(target, overwrite, sidecarJson) {
          if (target !== current) {
            if (!overwrite && (await exists(dir, target))) return null;
            if (typeof handle.move !== 'function') {
              throw new Error(`cannot rename ${current} to ${target} in this browser; free the name and try again`);
            }
            await handle.move(target);
            current = target;
          }
          if (sidecar) {
            const side = await dir.getFileHandle(`${target}.mesbackup.json`, { create: true });
            const w = await side.createWritable();
            await w.write(sidecarJson);
            await w.close();
          }
          return target;
        },
        async discard(keepAs) {
          if (!closed) {
            try {
              await writable.abort();
            } catch {
              /* closed */
            }
          }
          if (keepAs && typeof handle.move === 'function' && !(await exists(dir, keepAs))) {
            try {
              await handle.move(keepAs);
              return;
            } catch {
              /* fall through */
            }
          }
          await removeCurrent();
        },
      };
    },
  };
}

/**
 * Last resort in browsers without File System Access: collects the package in a Blob (the browser
 * may page it to disk) and hands it to the browser's download manager under its final name.
 */
export function downloadSink({ document: doc = globalThis.document, sidecar = false } = {}) {
  const save = (blob, name) => {
    const url = URL.createObjectURL(blob);
    const a = doc.createElement('a');
    a.href = url;
    a.download = name;
    a.rel = 'noopener';
    doc.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  return {
    async open() {
      let parts = [];
      let bytes = 0;
      return {
        write(chunk) {
          parts.push(chunk);
          bytes += chunk.byteLength;
        },
        finish() {
          return bytes;
        },
        commit(name, _overwrite, sidecarJson) {
          save(new Blob(parts, { type: 'application/zip' }), name);
          if (sidecar) save(new Blob([sidecarJson], { type: 'application/json' }), `${name}.mesbackup.json`);
          parts = [];
          return name;
        },
        discard() {
          parts = [];
        },
      };
    },
  };
}
