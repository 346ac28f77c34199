// The insight page: graph with its band and spans, the facts, each tab, copy buttons, and
// a shared link that opens the same view in a fresh browser.
import { test, expect } from '@playwright/test';
import { EXPECTED, hydrated, insightId, screenshot } from './helpers';

test('clicking an insight shows its graph, facts and attributions', async ({ page }) => {
  await page.goto('/insights');
  await hydrated(page);
  const row = page.getByTestId('insight-row').filter({ hasText: 'ApiCallRateInsight' }).filter({ hasText: 'PutParameter' });
  await row.getByRole('link', { name: 'PutParameter' }).click();
  await expect(page).toHaveURL(/\/insights\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;

  const facts = page.getByTestId('insight-facts');
  await expect(facts).toContainText('ApiCallRateInsight');
  await expect(facts).toContainText('ssm.amazonaws.com');
  const start = EXPECTED.find((e) => e.type === 'ApiCallRateInsight' && e.name === 'PutParameter')!.time;
  await expect(facts).toContainText(`2026-03-10 ${start} UTC`);
  await expect(facts).toContainText(id);

  // The graph: the calls line and the insight's band; a 1-minute insight defaults to 3 h.
  const graph = page.getByTestId('insight-graph');
  await expect(graph.locator('svg rect.band')).toHaveCount(1);
  await expect(graph.locator('svg polyline[stroke="#0972D3" i]')).toBeVisible();
  await expect(graph).toContainText('calls per minute');
  await expect(page.getByTestId('span-3h')).toHaveClass(/active/);

  // Attributions: the attacker's identity and user agent, insight vs baseline.
  await expect(page.getByTestId('attribution-userIdentityArn')).toContainText('arn:aws:iam::123837392027:user/bert-jan');
  await expect(page.getByTestId('attribution-userAgent')).toBeVisible();
  await expect(page.getByTestId('attribution-errorCode')).toContainText('ThrottlingException');
  await expect(page.getByTestId('other-insights')).toContainText('None');
  await screenshot(page, 'insight');

  await page.getByTestId('span-12h').click();
  await expect(page).toHaveURL(/span=12h/);
  await expect(page.getByTestId('span-12h')).toHaveClass(/active/);
  await expect(graph.locator('svg rect.band')).toHaveCount(1);
});

test('the CloudTrail Events tab lists the API events and filters to the matching ones', async ({ page }) => {
  const id = await insightId(page, 'PutParameter', 'ApiErrorRateInsight');
  await page.goto(`/insights/${id}`);
  await hydrated(page);
  await page.getByTestId('tab-events').click();
  await expect(page).toHaveURL(/tab=events/);
  const rows = page.getByTestId('event-row');
  await expect(rows.first()).toContainText('PutParameter');
  const all = await rows.count();
  expect(all).toBe(20);
  await expect(page.getByTestId('events-next')).toBeVisible();

  // Each row expands to its full JSON and links to the event's page.
  await rows.first().locator('summary').click();
  await expect(rows.first().locator('pre')).toContainText('"eventName": "PutParameter"');

  await page.getByTestId('only-matching').click();
  await expect(page).toHaveURL(/only=1/);
  await expect(rows.first()).toContainText('ThrottlingException');
  const matching = await rows.allTextContents();
  expect(matching.every((text) => text.includes('ThrottlingException'))).toBe(true);
  await screenshot(page, 'insight-events');

  await rows.first().getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/events/[0-9a-f-]+\\?insight=${id}$`));
  await expect(page.getByTestId('event-json')).toContainText('"errorCode": "ThrottlingException"');
  // The breadcrumb leads back to the insight's events, not to the event history.
  await page.getByTestId('crumbs').getByRole('link', { name: 'the insight' }).click();
  await expect(page).toHaveURL(new RegExp(`/insights/${id}\\?tab=events$`));
});

test('the Records tab shows Start and End, and copy buttons copy', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const id = await insightId(page, 'GetPasswordData', 'ApiErrorRateInsight');
  await page.goto(`/insights/${id}?tab=records`);
  await hydrated(page);
  const start = page.getByTestId('start-record');
  await expect(start).toContainText('"state": "Start"');
  await expect(start).toContainText(`"sharedEventID": "${id}"`);
  await expect(start).toContainText('"baselineDuration": 10080');
  const end = page.getByTestId('end-record');
  await expect(end).toContainText('"state": "End"');
  await expect(end).toContainText('"insightDuration": 1');

  await page.getByTestId('end-record-copy').click();
  const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
  expect(copied.insightDetails.state).toBe('End');
  expect(copied.sharedEventID).toBe(id);

  // Copy link copies the view (tab included), and says "Copied" only for a moment.
  await page.getByTestId('copy-link').click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/insights/${id}\\?tab=records$`));
  await expect(page.getByTestId('copy-link')).toHaveText('Copied');
  await expect(page.getByTestId('copy-link')).toHaveText('Copy link');
  await screenshot(page, 'insight-records');
});

test('a shared link opens the same view in a fresh browser, server-rendered', async ({ page, browser }) => {
  const id = await insightId(page, 'DeleteParameter', 'ApiErrorRateInsight');
  const link = `/insights/${id}?tab=events&span=1d&only=1`;
  const fresh = await browser.newContext({ javaScriptEnabled: false });
  const other = await fresh.newPage();
  await other.goto(link);
  await expect(other.getByTestId('tab-events')).toHaveClass(/active/);
  await expect(other.getByTestId('span-1d')).toHaveClass(/active/);
  await expect(other.getByTestId('event-row').first()).toContainText('ThrottlingException');
  await expect(other.getByTestId('insight-graph').locator('svg rect.band')).toHaveCount(1);
  await fresh.close();
});
