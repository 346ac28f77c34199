// The insights list: console columns, filters that live in the URL, downloads.
import { test, expect } from '@playwright/test';
import { EXPECTED, INSIGHTS, hydrated, screenshot } from './helpers';

/** How many expected insights `keep` selects. */
const expected = (keep: (e: (typeof EXPECTED)[number]) => boolean) => EXPECTED.filter(keep).length;

test('the list shows the demo insights, newest first, with console columns', async ({ page }) => {
  await page.goto('/insights');
  const rows = page.getByTestId('insight-row');
  await expect(rows).toHaveCount(INSIGHTS);
  await expect(page.getByTestId('insight-count')).toHaveText(`${INSIGHTS} insights`);
  for (const column of ['Event name', 'Insight type', 'Event source', 'Trail', 'Start time', 'Duration', 'Baseline (per minute)', 'Insight (per minute)', 'Rate change']) {
    await expect(page.locator('thead')).toContainText(column);
  }
  await expect(rows.first()).toContainText('DeleteParameter');
  await expect(rows.last()).toContainText('GetPasswordData');
  await expect(rows.last()).toContainText('Client.UnauthorizedOperation');
  const first = EXPECTED.map((e) => e.time).sort()[0];
  await expect(rows.last()).toContainText(`2026-03-10 ${first} UTC`);
  await expect(page.getByTestId('page-of')).toHaveText('Page 1 of 1');
  await screenshot(page, 'insights');
});

test('typing in the filter narrows the list without reloading and updates the URL', async ({ page }) => {
  await page.goto('/insights');
  await hydrated(page);
  await page.evaluate(() => ((window as any).__samePage = true));
  await page.getByTestId('insight-filter').fill('putparameter');
  await expect(page.getByTestId('insight-row')).toHaveCount(expected((e) => e.name === 'PutParameter'));
  await expect(page).toHaveURL(/\/insights\?q=putparameter$/);
  await page.getByTestId('insight-filter').fill('Throttling');
  await expect(page.getByTestId('insight-row')).toHaveCount(expected((e) => e.code === 'ThrottlingException'));
  await page.getByTestId('insight-filter').fill('');
  await expect(page.getByTestId('insight-row')).toHaveCount(INSIGHTS);
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
});

test('filters by attribute, type and time range, and the URL opens the same view elsewhere', async ({ page, browser }) => {
  await page.goto('/insights');
  await hydrated(page);
  await page.getByTestId('filter-type').selectOption('ApiErrorRateInsight');
  await expect(page.getByTestId('insight-row')).toHaveCount(expected((e) => e.type === 'ApiErrorRateInsight'));
  await page.getByTestId('filter-attr').selectOption('name');
  await page.getByTestId('insight-filter').fill('DeleteParameter');
  const deleteErrors = expected((e) => e.type === 'ApiErrorRateInsight' && e.name === 'DeleteParameter');
  expect(deleteErrors).toBe(1);
  await expect(page.getByTestId('insight-row')).toHaveCount(deleteErrors);
  await expect(page.getByTestId('insight-row')).toContainText('ThrottlingException');
  const url = page.url();
  expect(url).toContain('type=ApiErrorRateInsight');

  // The same link in a fresh browser, without JavaScript: the server renders the same view.
  const fresh = await browser.newContext({ javaScriptEnabled: false });
  const other = await fresh.newPage();
  await other.goto(url);
  await expect(other.getByTestId('insight-row')).toHaveCount(1);
  await expect(other.getByTestId('filter-type')).toHaveValue('ApiErrorRateInsight');
  await expect(other.getByTestId('insight-filter')).toHaveValue('DeleteParameter');
  await fresh.close();

  // A custom time range: 11:55-12:00 holds the 11:58 PutParameter insights only.
  await page.goto('/insights?range=custom&from=2026-03-10T11:55&to=2026-03-10T12:00');
  await expect(page.getByTestId('insight-row')).toHaveCount(expected((e) => e.time >= '11:55' && e.time <= '12:00'));
  await expect(page.getByTestId('insight-row').first()).toContainText('PutParameter');
  // A preset is relative to now: the demo's March history is outside the last 7 days.
  await page.goto('/insights?range=7d');
  await expect(page.getByTestId('insight-count')).toHaveText('No insights match.');
});

test('the filtered list downloads as CSV and as AWS records', async ({ page, request }) => {
  await page.goto('/insights?type=ApiCallRateInsight');
  const csvHref = await page.getByTestId('download-csv').getAttribute('href');
  expect(csvHref).toBe('/insights.csv?type=ApiCallRateInsight');
  const csv = await (await request.get(csvHref!)).text();
  const lines = csv.trim().split('\n');
  expect(lines[0]).toContain('shared_event_id,trail,insight_type');
  expect(lines.length).toBe(3);
  expect(lines.slice(1).every((l) => l.includes(',ApiCallRateInsight,'))).toBe(true);

  const json = await (await request.get((await page.getByTestId('download-json').getAttribute('href'))!)).json();
  expect(json.Records.length).toBe(4);
  expect(json.Records.every((r: any) => r.eventType === 'AwsCloudTrailInsight' && r.insightDetails.insightType === 'ApiCallRateInsight')).toBe(true);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the filter form submits and an insight reads fully', async ({ page }) => {
    await page.goto('/insights');
    await page.getByTestId('insight-filter').fill('GetPasswordData');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByTestId('insight-row')).toHaveCount(1);
    await page.getByRole('link', { name: 'GetPasswordData' }).click();
    await expect(page.getByTestId('attribution-userIdentityArn')).toContainText('stratus-red-team');
    await page.getByTestId('tab-records').click();
    await expect(page.getByTestId('start-record')).toContainText('"errorCode": "Client.UnauthorizedOperation"');
    await expect(page.getByTestId('end-record')).toContainText('"state": "End"');
  });
});

test('an unknown insight is a 404 page, not an error', async ({ page }) => {
  const response = await page.goto('/insights/00000000-0000-0000-0000-000000000000');
  expect(response?.status()).toBe(404);
  await expect(page.locator('h1')).toHaveText('Not found');
  await expect(page.getByText('There is no such insight.')).toBeVisible();
});
