// Starts the mock-mes binary and talks to its control endpoints (tests/scenarios/README.md).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// The mock-mes binary: $MOCK_MES_BIN, else {debug,release}/mock-mes under $CARGO_TARGET_DIR or ./target.
export function mockBinary() {
  if (process.env.MOCK_MES_BIN) return process.env.MOCK_MES_BIN;
  const dirs = [process.env.CARGO_TARGET_DIR, resolve(root, 'target')].filter(Boolean);
  for (const d of dirs)
    for (const p of ['debug', 'release']) {
      const bin = resolve(d, p, 'mock-mes');
      if (existsSync(bin)) return bin;
    }
  throw new Error('mock-mes binary not found: build it (cargo build -p mock-mes) or set MOCK_MES_BIN');
}

export async function startMock(args = []) {
  const child = spawn(mockBinary(), ['--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((ok, fail) => {
    lines.once('line', ok);
    child.once('exit', (code) => fail(new Error(`mock-mes exited with ${code}`)));
  });
  lines.on('line', () => {});
  return {
    base,
    async setScenario(server) {
      const r = await fetch(`${base}/_mock/scenario`, { method: 'PUT', body: JSON.stringify(server ?? {}) });
      if (!r.ok) throw new Error(`mock rejected the scenario: ${await r.text()}`);
    },
    async log() {
      return (await fetch(`${base}/_mock/log`)).json();
    },
    stop() {
      child.kill();
    },
  };
}
