// Shared by the browser tests: facts of the e2e demo, hydration, screenshots, and the CLI
// against the server's own database.
import { expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

// The e2e server holds the demo of seed 7 ending 2026-03-10T18:00Z: the Invictus attack
// yields five insights (see serve-demo.sh).
export const INSIGHTS = 5;
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
