// The vertical slice as a person uses it: the insights list (server-rendered, then hydrated),
// live filtering, opening an insight and reading its Start/End records, and a 404.
import { test, expect, Page } from '@playwright/test';

// The e2e server holds the demo of seed 7 ending 2026-03-10T18:00Z: the Invictus attack
// yields five insights (see serve-demo.sh).
const INSIGHTS = 5;

async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('the list shows the demo insights, newest first, with console columns', async ({ page }) => {
  await page.goto('/insights');
  const rows = page.getByTestId('insight-row');
  await expect(rows).toHaveCount(INSIGHTS);
  await expect(page.getByTestId('insight-count')).toHaveText(`${INSIGHTS} of ${INSIGHTS} insights`);
  await expect(page.locator('thead')).toContainText('Rate change');
  // Newest first: the DeleteParameter bursts (12:08) come before GetPasswordData (11:54).
  await expect(rows.first()).toContainText('DeleteParameter');
  await expect(rows.last()).toContainText('GetPasswordData');
  await expect(rows.last()).toContainText('Client.UnauthorizedOperation');
  await expect(rows.last()).toContainText('2026-03-10 11:54 UTC');
  await page.screenshot({ path: 'test-results/screens/insights.png', fullPage: true });
});

test('typing in the filter narrows the list without reloading (needs hydration)', async ({ page }) => {
  await page.goto('/insights');
  await hydrated(page);
  await page.evaluate(() => ((window as any).__samePage = true));
  await page.getByTestId('insight-filter').fill('putparameter');
  await expect(page.getByTestId('insight-row')).toHaveCount(2);
  await expect(page.getByTestId('insight-count')).toHaveText(`2 of ${INSIGHTS} insights`);
  await page.getByTestId('insight-filter').fill('Throttling');
  await expect(page.getByTestId('insight-row')).toHaveCount(2);
  await page.getByTestId('insight-filter').fill('');
  await expect(page.getByTestId('insight-row')).toHaveCount(INSIGHTS);
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
});

test('clicking an insight shows its facts and its Start and End records', async ({ page }) => {
  await page.goto('/insights');
  await hydrated(page);
  const row = page.getByTestId('insight-row').filter({ hasText: 'ApiCallRateInsight' }).filter({ hasText: 'PutParameter' });
  await row.getByRole('link', { name: 'PutParameter' }).click();
  await expect(page).toHaveURL(/\/insights\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop()!;

  const facts = page.getByTestId('insight-facts');
  await expect(facts).toContainText('ApiCallRateInsight');
  await expect(facts).toContainText('ssm.amazonaws.com');
  await expect(facts).toContainText('2026-03-10 11:58 UTC');
  await expect(facts).toContainText(id);

  const start = page.getByTestId('start-record');
  await expect(start).toContainText('"state": "Start"');
  await expect(start).toContainText(`"sharedEventID": "${id}"`);
  await expect(start).toContainText('"eventType": "AwsCloudTrailInsight"');
  await expect(start).toContainText('"baselineDuration": 10080');
  await expect(start).toContainText('"attribute": "userIdentityArn"');
  await page.screenshot({ path: 'test-results/screens/insight.png', fullPage: true });

  await page.getByTestId('tab-end').click();
  await expect(page).toHaveURL(new RegExp(`/insights/${id}\\?tab=end$`));
  const end = page.getByTestId('end-record');
  await expect(end).toContainText('"state": "End"');
  await expect(end).toContainText(`"sharedEventID": "${id}"`);
  await expect(end).toContainText('"insightDuration": 1');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the list, a filtered link and an insight all read fully', async ({ page }) => {
    await page.goto('/insights?q=GetPasswordData');
    await expect(page.getByTestId('insight-row')).toHaveCount(1);
    await page.getByRole('link', { name: 'GetPasswordData' }).click();
    await expect(page.getByTestId('start-record')).toContainText('"errorCode": "Client.UnauthorizedOperation"');
    await page.getByTestId('tab-end').click();
    await expect(page.getByTestId('end-record')).toContainText('"state": "End"');
  });
});

test('an unknown insight is a 404 page, not an error', async ({ page }) => {
  const response = await page.goto('/insights/00000000-0000-0000-0000-000000000000');
  expect(response?.status()).toBe(404);
  await expect(page.locator('h1')).toHaveText('Not found');
  await expect(page.getByText('There is no such insight.')).toBeVisible();
});
