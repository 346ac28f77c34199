// Event history: every stored event, newest first, by lookup attribute; one event's page.
import { test, expect } from '@playwright/test';
import { screenshot } from './helpers';

test('the event history filters by a lookup attribute and opens an event', async ({ page }) => {
  await page.goto('/events');
  await expect(page.getByTestId('event-row')).toHaveCount(50);
  await expect(page.getByTestId('events-next')).toBeVisible();
  await screenshot(page, 'events');

  await page.getByTestId('event-attr').selectOption('EventName');
  await page.getByTestId('event-value').fill('GetPasswordData');
  await page.getByTestId('event-apply').click();
  await expect(page).toHaveURL(/attr=EventName&value=GetPasswordData/);
  const rows = page.getByTestId('event-row');
  await expect(rows.first()).toContainText('GetPasswordData');
  expect((await rows.allTextContents()).every((t) => t.includes('GetPasswordData'))).toBe(true);

  await page.getByTestId('event-attr').selectOption('Username');
  await page.getByTestId('event-value').fill('bert-jan');
  await page.getByTestId('event-apply').click();
  await expect(rows.first()).toContainText('bert-jan');

  await rows.first().getByRole('link').click();
  await expect(page).toHaveURL(/\/events\/[^/]+$/);
  const id = decodeURIComponent(page.url().split('/').pop()!);
  await expect(page.getByTestId('event-json')).toContainText(`"eventID": "${id}"`);
  await expect(page.getByTestId('event-facts')).toContainText('bert-jan');
});

test('an unknown event is a 404 page', async ({ page }) => {
  const response = await page.goto('/events/no-such-event');
  expect(response?.status()).toBe(404);
  await expect(page.getByText('There is no such event.')).toBeVisible();
});
