// Every page fits a phone (390 px) and a laptop (1280 px) without the page scrolling
// sideways: the bar wraps, tables keep their priority columns and scroll inside their own
// box, long identifiers break. A screenshot of each page at each width is saved under
// end2end/test-results/screens/layout-<page>-<width>.png for people to look at.
import { test, expect } from '@playwright/test';
import { screenshot } from './helpers';

for (const width of [390, 1280]) {
  test(`every page fits ${width} px without sideways scrolling`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto('/insights');
    const insight = await page.getByTestId('insight-row').first().getByRole('link').getAttribute('href');
    await page.goto('/events');
    const event = await page.getByTestId('event-row').first().getByRole('link').getAttribute('href');
    const pages: [string, string][] = [
      ['home', '/'], ['insights', '/insights'], ['insight', insight!], ['insight-events', `${insight}?tab=events`],
      ['insight-records', `${insight}?tab=records`], ['events', '/events'], ['event', event!], ['settings', '/settings'],
      ['access', '/access'], ['login', '/login'],
    ];
    for (const [name, path] of pages) {
      const response = await page.goto(path);
      expect(response?.status(), path).toBeLessThan(400);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth, `${path} is ${scrollWidth} px wide at ${width} px`).toBeLessThanOrEqual(width);
      await screenshot(page, `layout-${name}-${width}`);
    }
  });
}
