// Settings change what detection does, and new insights appear without a reload. This file
// changes the server's data, so it runs last (files run in name order on one worker).
import { test, expect } from '@playwright/test';
import { DEMO_END, EXPECTED, INSIGHTS, hydrated, screenshot, trailsight } from './helpers';

test('a trail created in settings with call-rate off gets only error-rate insights, live', async ({ page, browser }) => {
  await page.goto('/settings');
  await hydrated(page);
  await page.getByTestId('new-trail-name').fill('errors-only');
  await page.getByTestId('create-trail').click();
  const card = page.getByTestId('trail-errors-only');
  await expect(card).toBeVisible();
  await card.getByTestId('call-rate').uncheck();
  await card.getByTestId('sensitivity').selectOption('high');
  // Wait for the save itself to answer, not for a guessed amount of time.
  const saved = page.waitForResponse((r) => r.url().includes('save_trail_settings') && r.request().method() === 'POST');
  await card.getByTestId('save-settings').click();
  expect((await saved).ok()).toBe(true);

  // Stored: a reload shows the same settings, and Home shows them.
  await page.reload();
  await expect(page.getByTestId('trail-errors-only').getByTestId('call-rate')).not.toBeChecked();
  await expect(page.getByTestId('trail-errors-only').getByTestId('error-rate')).toBeChecked();
  await expect(page.getByTestId('trail-errors-only').getByTestId('sensitivity')).toHaveValue('high');
  await screenshot(page, 'settings');
  await page.goto('/');
  await expect(page.getByTestId('home-trail').filter({ hasText: 'errors-only' })).toContainText('ApiErrorRateInsight');
  await expect(page.getByTestId('home-trail').filter({ hasText: 'errors-only' })).not.toContainText('ApiCallRateInsight');

  // An open insights list picks up new insights by itself.
  const live = await browser.newPage();
  await live.goto('/insights');
  await hydrated(live);
  await live.evaluate(() => ((window as any).__samePage = true));
  await expect(live.getByTestId('insight-row')).toHaveCount(INSIGHTS);

  // The next detection on this trail honours its settings: only error-rate insights.
  const errorInsights = EXPECTED.filter((e) => e.type === 'ApiErrorRateInsight').length;
  trailsight('demo', '--trail', 'errors-only', '--seed', '7', '--end', DEMO_END);
  await expect(live.getByTestId('insight-row')).toHaveCount(INSIGHTS + errorInsights, { timeout: 20_000 });
  expect(await live.evaluate(() => (window as any).__samePage)).toBe(true);
  await page.goto('/insights?trail=errors-only');
  const rows = page.getByTestId('insight-row');
  await expect(rows).toHaveCount(errorInsights);
  expect((await rows.allTextContents()).every((t) => t.includes('ApiErrorRateInsight'))).toBe(true);
});

test('trails are renamed and deleted (with confirmation)', async ({ page }) => {
  await page.goto('/settings');
  await hydrated(page);
  await page.getByTestId('new-trail-name').fill('scratch');
  await page.getByTestId('create-trail').click();
  await page.getByTestId('trail-scratch').getByTestId('rename-to').fill('scratch-2');
  await page.getByTestId('trail-scratch').getByTestId('rename-trail').click();
  await expect(page.getByTestId('trail-scratch-2')).toBeVisible();
  await expect(page.getByTestId('trail-scratch')).toHaveCount(0);

  // A name that exists already is refused with a message.
  await page.getByTestId('new-trail-name').fill('demo');
  await page.getByTestId('create-trail').click();
  await expect(page.getByTestId('settings-error')).toContainText('already exists');

  const card = page.getByTestId('trail-scratch-2');
  await expect(card.getByTestId('delete-confirm')).toBeHidden();
  await card.getByTestId('delete-open').click();
  // The name must be typed exactly: a slip deletes nothing and says why.
  await card.getByTestId('delete-confirm-name').fill('scratch');
  await card.getByTestId('delete-confirm').click();
  await expect(page.getByTestId('settings-error')).toContainText('type its name exactly');
  await expect(page.getByTestId('trail-scratch-2')).toBeVisible();
  await card.getByTestId('delete-confirm-name').fill('scratch-2');
  await card.getByTestId('delete-confirm').click();
  await expect(page.getByTestId('trail-scratch-2')).toHaveCount(0);
  await expect(page.getByTestId('trail-demo')).toBeVisible();
});
