// Shared by the browser tests: facts of the e2e demo, hydration, screenshots, and the CLI
// against the server's own database.
import { expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/** An insight the demo's attack must raise: its type, API, error code and start (time of day). */
export interface Expected { type: string; name: string; code?: string; time: string }

/** Worked out from the attack's own records (the bundled Invictus fixture) and AWS's
 *  definitions, not from trailsight's output: a burst is ten or more calls of one API in one
 *  minute (the demo's background calls these APIs a few times a day); ApiCallRateInsight
 *  counts write management calls, ApiErrorRateInsight failed calls per error code. The demo
 *  keeps the attack's time of day (see serve-demo.sh), so `time` is the start's HH:MM. */
export function attackInsights(): Expected[] {
  const gz = fs.readFileSync(path.resolve(__dirname, '../../engine/fixtures/invictus/attack-bursts.json.gz'));
  const records: any[] = JSON.parse(zlib.gunzipSync(gz).toString('utf8')).Records;
  const bursts = new Map<string, { e: Expected; n: number }>();
  const count = (e: Expected) => {
    const key = `${e.type}|${e.name}|${e.code ?? ''}|${e.time}`;
    const entry = bursts.get(key) ?? { e, n: 0 };
    entry.n += 1;
    bursts.set(key, entry);
  };
  for (const r of records) {
    const time = (r.eventTime as string).slice(11, 16);
    if (r.readOnly === false) count({ type: 'ApiCallRateInsight', name: r.eventName, time });
    if (r.errorCode) count({ type: 'ApiErrorRateInsight', name: r.eventName, code: r.errorCode, time });
  }
  return [...bursts.values()].filter((b) => b.n >= 10).map((b) => b.e);
}

// The e2e server holds the demo of seed 7 ending 2026-03-10T18:00Z (see serve-demo.sh).
export const EXPECTED = attackInsights();
export const INSIGHTS = EXPECTED.length;
export const DEMO_END = '2026-03-10T18:00:00Z';

export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

/** Runs the trailsight CLI against the e2e server's database. */
export function trailsight(...args: string[]): string {
  const bin = process.env.TRAILSIGHT_BIN ?? path.resolve(__dirname, '../../target/debug/trailsight');
  return execFileSync(bin, [...args, '--db', `sqlite://${process.env.E2E_DB}`], { encoding: 'utf8', env: { ...process.env, RUST_LOG: 'warn' } });
}

/** The sharedEventID of the demo insight with this event name and type. */
export async function insightId(page: Page, name: string, type: string): Promise<string> {
  await page.goto(`/insights?attr=name&q=${name}&type=${type}`);
  const href = await page.getByTestId('insight-row').first().getByRole('link').getAttribute('href');
  return href!.split('/').pop()!;
}

/** A second trailsight server (its own database) started by a test, stopped with `stop()`. */
export interface Server {
  url: string;
  db: string;
  cli: (args: string[], input?: string) => string;
  stop: () => void;
}

/** Starts `trailsight serve` with `args` on `port` and waits until it answers /healthz;
 *  `setup` runs CLI commands on the new database first (a server that requires sign-in
 *  refuses to start without a user). */
export async function startServer(port: number, args: string[], setup: (cli: Server['cli']) => void = () => {}): Promise<Server> {
  const { spawn } = await import('node:child_process');
  const bin = process.env.TRAILSIGHT_BIN ?? path.resolve(__dirname, '../../target/debug/trailsight');
  const db = `${process.env.TMPDIR ?? '/tmp'}/trailsight-e2e-${port}.db`;
  for (const f of [db, `${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
  const cli = (cliArgs: string[], input?: string) =>
    execFileSync(bin, [...cliArgs, '--db', `sqlite://${db}`], { encoding: 'utf8', input, env: { ...process.env, RUST_LOG: 'warn' } });
  return { url: `http://127.0.0.1:${port}`, db, cli, stop: () => {}, ...(await launch()) };

  async function launch() {
    setup(cli);
    const child = spawn(bin, ['serve', '--db', `sqlite://${db}`, '--addr', `127.0.0.1:${port}`,
      '--site-root', path.resolve(__dirname, '../../target/site'), '--detect-every', '0', ...args],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`trailsight serve exited: ${log}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`trailsight serve did not answer within 30 s: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { stop: () => { child.kill('SIGTERM'); } };
  }
}
