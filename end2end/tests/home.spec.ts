// Home: the latest insights, counts, what appears most, and the trails.
import { test, expect } from '@playwright/test';
import { INSIGHTS, screenshot } from './helpers';

test('home summarises insights and trails', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('count-total')).toContainText(`${INSIGHTS}`);
  // The demo's attack happened in March: nothing in the last 24 hours or 7 days.
  await expect(page.getByTestId('count-24h')).toContainText('0');
  await expect(page.getByTestId('count-7d')).toContainText('0');
  await expect(page.getByTestId('latest').getByTestId('insight-row')).toHaveCount(INSIGHTS);
  await expect(page.getByTestId('top-apis').locator('li').first()).toContainText('DeleteParameter');
  await expect(page.getByTestId('top-apis')).toContainText('PutParameter');
  await expect(page.getByTestId('top-identities')).toContainText('bert-jan');
  const demo = page.getByTestId('home-trail').filter({ hasText: 'demo' });
  await expect(demo).toContainText('ApiCallRateInsight, ApiErrorRateInsight');
  await expect(demo).toContainText('2026-03-10');
  await screenshot(page, 'home');
});
