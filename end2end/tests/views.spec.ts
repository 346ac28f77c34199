// What a security engineer triaging an insight relies on: a graph whose peak does not change
// with the span, a copied link that reopens the same view, event lists with headers and
// seconds, settings that confirm what they did, and addresses that forgive a trailing slash.
import { test, expect, Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { hydrated, insightId } from './helpers';

/** The busiest minute's count of one API's write calls in the attack fixture, worked out from
 *  its records (not from trailsight): what the graph's peak must read at every span. */
function fixturePeak(name: string): number {
  const gz = fs.readFileSync(path.resolve(__dirname, '../../engine/fixtures/invictus/attack-bursts.json.gz'));
  const records: any[] = JSON.parse(zlib.gunzipSync(gz).toString('utf8')).Records;
  const perMinute = new Map<string, number>();
  for (const r of records) {
    if (r.eventName === name && r.readOnly === false) {
      const minute = (r.eventTime as string).slice(0, 16);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    }
  }
  return Math.max(...perMinute.values());
}

/** The largest call count in the graph's hover titles ("…: 78 calls", "…: 1 call"). */
async function graphPeak(page: Page): Promise<number> {
  const titles = await page.getByTestId('insight-graph').locator('svg rect.hover title').allTextContents();
  return Math.max(...titles.map((t) => Number(/: (\d+) calls?/.exec(t)![1])));
}

test('the graph shows the same peak at every span', async ({ page }) => {
  const id = await insightId(page, 'PutParameter', 'ApiCallRateInsight');
  const expected = fixturePeak('PutParameter');
  expect(expected).toBeGreaterThanOrEqual(10);
  for (const span of ['5m', '30m', '1h', '3h', '12h', '1d', '3d', '1w']) {
    await page.goto(`/insights/${id}?span=${span}`);
    await expect(page.getByTestId(`span-${span}`)).toHaveClass(/active/);
    expect(await graphPeak(page), `peak at ${span}`).toBe(expected);
  }
  // Wide spans say what a point is.
  await expect(page.getByTestId('insight-graph')).toContainText('busiest minute of each 14 minutes');
  // Changing the span keeps the page (the facts stay) and swaps the graph.
  await hydrated(page);
  await page.evaluate(() => ((window as any).__samePage = true));
  await page.getByTestId('span-3h').click();
  await expect(page.getByTestId('insight-graph')).toHaveAttribute('data-span', '3h');
  await expect(page.getByTestId('insight-facts')).toBeVisible();
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);

  // The graph downloads as an SVG file.
  const download = await page.request.get(`/insights/${id}/graph.svg?span=1d`);
  expect(download.status()).toBe(200);
  expect(download.headers()['content-type']).toBe('image/svg+xml');
  expect(download.headers()['content-disposition']).toContain(`insight-${id}-1d.svg`);
  const file = await download.text();
  expect(file.startsWith('<?xml')).toBe(true);
  expect(file).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect(file).toContain('class="band"');
});

test('attributions show who normally does this beside who did it', async ({ page }) => {
  const id = await insightId(page, 'PutParameter', 'ApiCallRateInsight');
  await page.goto(`/insights/${id}`);
  const identities = page.getByTestId('attribution-userIdentityArn');
  await expect(identities.getByTestId('insight')).toContainText('bert-jan');
  await expect(identities.getByTestId('baseline')).toContainText('Baseline: who normally does this');
  await expect(identities.getByTestId('insight')).toContainText('%');
});

test('a copied link reopens the same view in a fresh browser', async ({ page, context, browser }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const id = await insightId(page, 'DeleteParameter', 'ApiErrorRateInsight');
  await page.goto(`/insights/${id}?tab=events&span=1d&only=1`);
  await hydrated(page);
  await page.getByTestId('copy-link').click();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(link);
  await expect(other.getByTestId('tab-events')).toHaveClass(/active/);
  await expect(other.getByTestId('span-1d')).toHaveClass(/active/);
  await expect(other.getByTestId('only-matching')).toContainText('Show all events');
  await fresh.close();
});

test('event lists have headers, seconds, source IPs and a way back to the newest', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto('/events');
  await expect(page.locator('.event-head')).toContainText('Time (UTC)');
  await expect(page.locator('.event-head')).toContainText('Source IP');
  const first = page.getByTestId('event-row').first();
  await expect(first.locator('.time')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  await expect(page.getByTestId('event-count')).toContainText('more are older');
  // Older, older, then Newer comes back to the second page and Newest to the first.
  const firstIds = await page.getByTestId('event-row').locator('a.name').evaluateAll((a) => a.map((x) => x.getAttribute('href')));
  await page.getByTestId('events-next').click();
  await expect(page).toHaveURL(/before=/);
  const secondUrl = page.url();
  await page.getByTestId('events-next').click();
  await page.getByTestId('events-newer').click();
  await expect(page).toHaveURL(secondUrl);
  await page.getByTestId('events-first').click();
  await expect(page).toHaveURL(/\/events$/);
  const again = await page.getByTestId('event-row').locator('a.name').evaluateAll((a) => a.map((x) => x.getAttribute('href')));
  expect(again).toEqual(firstIds);

  // From later than To is explained, not an empty list.
  await page.goto('/events?from=2026-03-10T12:00&to=2026-03-10T11:00');
  await expect(page.locator('.error')).toContainText('later than To');
});

test('addresses with a trailing slash open the page', async ({ page }) => {
  for (const [typed, lands] of [['/events/', '/events'], ['/insights/?range=7d', '/insights?range=7d']]) {
    const response = await page.goto(typed);
    expect(response?.status(), typed).toBe(200);
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe(lands);
  }
  const icon = await page.request.get('/favicon.ico');
  expect(icon.status()).toBe(200);
  expect(icon.headers()['content-type']).toBe('image/svg+xml');
});

test('settings confirm saves, refuse short names, and deleting one trail leaves the next untouched', async ({ page }) => {
  await page.goto('/settings');
  await hydrated(page);
  await page.getByTestId('new-trail-name').fill('ab');
  await page.getByTestId('create-trail').click();
  await expect(page.getByTestId('settings-error')).toContainText('at least 3 characters');
  for (const name of ['keyed-one', 'keyed-two']) {
    await page.getByTestId('new-trail-name').fill(name);
    await page.getByTestId('create-trail').click();
    await expect(page.getByTestId(`trail-${name}`)).toBeVisible();
  }
  const one = page.getByTestId('trail-keyed-one');
  await one.getByTestId('sensitivity').selectOption('high');
  await one.getByTestId('save-settings').click();
  await expect(page.getByTestId('settings-saved')).toHaveText('Settings saved.');

  await one.getByTestId('delete-open').click();
  await one.getByTestId('delete-confirm-name').fill('keyed-one');
  await one.getByTestId('delete-confirm').click();
  await expect(page.getByTestId('trail-keyed-one')).toHaveCount(0);
  const two = page.getByTestId('trail-keyed-two');
  await expect(two.locator('details.danger')).not.toHaveAttribute('open', /.*/);
  await expect(two.getByTestId('delete-confirm')).toBeHidden();
  await two.getByTestId('delete-open').click();
  await expect(two.getByTestId('delete-confirm-name')).toHaveValue('');
  await two.getByTestId('delete-confirm-name').fill('keyed-two');
  await two.getByTestId('delete-confirm').click();
  await expect(page.getByTestId('trail-keyed-two')).toHaveCount(0);
});

test('on a phone the graph is drawn for its width, with readable text', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const id = await insightId(page, 'PutParameter', 'ApiCallRateInsight');
  await page.goto(`/insights/${id}`);
  await expect(page.getByTestId('insight-graph')).toBeHidden();
  const narrow = page.getByTestId('insight-graph-narrow');
  await expect(narrow).toBeVisible();
  // Text as drawn on screen (the SVG is scaled to the phone's width): at least 9 px tall.
  const heights = await narrow.locator('svg text.tick-label').evaluateAll((texts) => texts.map((t) => t.getBoundingClientRect().height));
  expect(heights.length).toBeGreaterThan(1);
  expect(Math.min(...heights)).toBeGreaterThanOrEqual(9);
});

test('every filter box matches the same way: part of the value, any case', async ({ page }) => {
  await page.goto('/insights?attr=name&q=putparam');
  const rows = page.getByTestId('insight-row');
  await expect(rows.first()).toContainText('PutParameter');
  expect((await rows.allTextContents()).every((t) => t.includes('PutParameter'))).toBe(true);
  await page.goto('/insights?attr=source&q=SSM.amazon');
  await expect(rows.first()).toContainText('ssm.amazonaws.com');
  await page.goto('/insights?trail=DEM');
  await expect(rows.first()).toContainText('demo');
});

test('times show in UTC or a zone the person picks, with or without JavaScript', async ({ page, browser }) => {
  await page.goto('/events?attr=EventName&value=GetPasswordData');
  await hydrated(page);
  const time = page.getByTestId('event-row').first().locator('.time');
  const utc = await time.textContent();
  expect(utc).toMatch(/ UTC$/);
  // With JavaScript, choosing is enough: the page comes back in that zone.
  await page.getByTestId('time-zone-select').selectOption('120');
  await expect(time).toHaveText(/ UTC\+02:00$/);
  const shifted = await time.textContent();
  const asMs = (text: string) => Date.parse(text.replace(' ', 'T').replace(/ UTC.*$/, 'Z'));
  expect(asMs(shifted!) - asMs(utc!)).toBe(2 * 3_600_000);
  await expect(page.locator('.event-head')).toContainText('Time (UTC+02:00)');
  await expect(page.locator('label.range').first()).toContainText('From (UTC+02:00)');
  // Typed times are read in the zone: 13:00 at UTC+02:00 is 11:00 UTC.
  await page.goto('/events?attr=EventName&value=GetPasswordData&from=2026-03-10T13:00&to=2026-03-10T13:59');
  await expect(page.getByTestId('event-row').first().locator('.time')).toHaveText(/^2026-03-10 13:\d\d:\d\d UTC\+02:00$/);

  // Without JavaScript, "Set" stores the choice on the server's answer and comes back.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const other = await plain.newPage();
  await other.goto('/insights');
  await other.getByTestId('time-zone-select').selectOption('-300');
  await other.getByTestId('time-zone-set').click();
  await expect(other).toHaveURL(/\/insights$/);
  await expect(other.getByTestId('insight-row').first()).toContainText('UTC-05:00');
  await plain.close();
});
