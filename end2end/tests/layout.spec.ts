// Every page fits a phone (390 px) and a laptop (1280 px) without the page scrolling
// sideways: the bar wraps, tables keep their priority columns and scroll inside their own
// box, long identifiers break.
import { test, expect } from '@playwright/test';
import { screenshot } from './helpers';

for (const width of [390, 1280]) {
  test(`every page fits ${width} px without sideways scrolling`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto('/insights');
    const insight = await page.getByTestId('insight-row').first().getByRole('link').getAttribute('href');
    const event = '/events';
    for (const path of ['/', '/insights', insight!, `${insight}?tab=events`, `${insight}?tab=records`, event, '/settings', '/access', '/login']) {
      await page.goto(path);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth, `${path} is ${scrollWidth} px wide at ${width} px`).toBeLessThanOrEqual(width);
    }
    if (width === 390) {
      await page.goto('/insights');
      await screenshot(page, 'insights-phone');
    }
  });
}
