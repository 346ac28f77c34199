// Notifications and triage as an admin uses them: a destination configured in Settings
// receives the new insights of fresh history (a real HTTP receiver started here); an insight
// marked expected creates a rule, and the same activity in another trail is then stored,
// suppressed, hidden by default and not sent. Runs after settings-and-live (name order): it
// adds trails of its own and counts only those.
import { test, expect } from '@playwright/test';
import * as http from 'node:http';
import { hydrated, screenshot, trailsight } from './helpers';

interface Received { detail: any; headers: http.IncomingHttpHeaders }

/** A webhook receiver on 127.0.0.1 that records every EventBridge event posted to it. */
async function receiver(): Promise<{ url: string; got: Received[]; close: () => void }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      got.push({ detail: JSON.parse(body).detail, headers: req.headers });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as any).port;
  return { url: `http://127.0.0.1:${port}/hook`, got, close: () => server.close() };
}

test('a destination gets new insights; marking one expected suppresses the next', async ({ page }) => {
  const hook = await receiver();
  try {
    await page.goto('/settings');
    await hydrated(page);
    await page.getByTestId('destination-open').click();
    await page.getByTestId('destination-name').fill('ops-hook');
    await page.getByTestId('destination-kind').selectOption('webhook');
    await page.getByTestId('destination-url').fill(hook.url);
    await page.getByTestId('destination-secret').fill('e2e-secret');
    // The demo places its attack at the time of day it really happened, up to 25 hours
    // before the end given: allow two days so every fresh insight is sent whatever the hour.
    await page.getByTestId('destination-max-age').fill('48');
    await page.getByTestId('destination-add').click();
    const card = page.getByTestId('destination-ops-hook');
    await expect(card).toContainText('webhook http://127.0.0.1:');
    await expect(card).toContainText('(signed)');
    await expect(card).not.toContainText('e2e-secret');

    // Fresh history in a new trail: its insights are sent.
    const now = new Date().toISOString().slice(0, 19) + 'Z';
    trailsight('demo', '--trail', 'fresh', '--seed', '7', '--end', now);
    await page.goto('/insights?trail=fresh');
    const rows = page.getByTestId('insight-row');
    await expect(rows.first()).toBeVisible();
    const freshCount = await rows.count();
    await expect.poll(() => new Set(hook.got.map((r) => r.detail.sharedEventID)).size, { timeout: 20_000 }).toBe(freshCount);
    expect(hook.got.every((r) => r.detail.eventCategory === 'Insight')).toBe(true);
    await expect(rows.first().getByTestId('insight-state')).toHaveText('new');
    // PutParameter has a call-rate and an error-rate insight; the rule names one type.
    const freshPutParameter = await rows.filter({ hasText: 'PutParameter' }).count();

    // Acknowledge one, comment, then mark it expected with a rule (state shows who did it).
    await rows.filter({ hasText: 'PutParameter' }).first().getByRole('link').click();
    await hydrated(page);
    await page.getByTestId('triage-acknowledged').click();
    await expect(page.getByTestId('triage')).toContainText('acknowledged');
    await page.getByTestId('comment-body').fill('Parameter writes from the deploy role?');
    await page.getByTestId('comment-add').click();
    await expect(page.getByTestId('comments')).toContainText('Parameter writes from the deploy role?');
    await expect(page.getByTestId('deliveries')).toContainText('ops-hook');
    await page.getByTestId('expected-open').click();
    await page.getByTestId('rule-name').fill('deploys-write-parameters');
    await page.getByTestId('rule-reason').fill('the nightly deploy');
    await page.getByTestId('rule-create').click();
    await expect(page.getByTestId('triage').getByTestId('insight-state')).toHaveText('expected');
    await screenshot(page, 'triage');

    // The same activity in another trail: stored, suppressed by the rule (its type only),
    // not sent.
    const before = hook.got.length;
    trailsight('demo', '--trail', 'fresh-2', '--seed', '7', '--end', now);
    await page.goto('/insights?trail=fresh-2');
    const shown = page.getByTestId('insight-row');
    await expect(shown).toHaveCount(freshCount - 1);
    await expect(shown.filter({ hasText: 'PutParameter' })).toHaveCount(freshPutParameter - 1);
    await page.goto('/insights?trail=fresh-2&suppressed=1');
    await expect(page.getByTestId('insight-row')).toHaveCount(freshCount);
    const suppressed = page.getByTestId('insight-row').filter({ hasText: 'deploys-write-parameters' });
    await expect(suppressed).toHaveCount(1);
    await expect(suppressed).toContainText('PutParameter');
    await expect(suppressed.getByTestId('insight-state')).toHaveText('expected (deploys-write-parameters)');
    const suppressedId = (await suppressed.getByRole('link').getAttribute('href'))!.split('/').pop();
    await expect.poll(() => new Set(hook.got.slice(before).map((r) => r.detail.sharedEventID)).size, { timeout: 20_000 }).toBe(freshCount - 1);
    expect(hook.got.map((r) => r.detail.sharedEventID)).not.toContain(suppressedId);

    // Settings list the rule; Home counts what is still new.
    await page.goto('/settings');
    await expect(page.getByTestId('rule-deploys-write-parameters')).toContainText(' on ssm.amazonaws.com PutParameter in account ');
    await expect(page.getByTestId('destination-ops-hook').getByTestId('destination-counts')).toContainText('failed 0');
  } finally {
    hook.close();
  }
});
