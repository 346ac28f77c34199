// Signing in: a server started with --auth required, users made with the CLI, the /login
// form in Chromium (with and without JavaScript), roles, sign-out; and a page on another
// origin that tries to delete a trail through the visitor's browser.
import { test, expect } from '@playwright/test';
import * as http from 'node:http';
import { hydrated, screenshot, startServer, Server } from './helpers';

const PASSWORD = 'correct horse battery';
let server: Server;

test.beforeAll(async () => {
  const port = Number(process.env.E2E_PORT ?? 3210) + 1;
  server = await startServer(port, ['--auth', 'required'], (cli) => {
    cli(['users', 'add', 'alice', '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`);
    cli(['users', 'add', 'bob', '--role', 'viewer', '--password-stdin'], `${PASSWORD}\n`);
    cli(['demo', '--trail', 'prod', '--seed', '7', '--end', '2026-03-10T18:00:00Z']);
  });
});

test.afterAll(() => server?.stop());

async function signIn(page: import('@playwright/test').Page, user: string, password = PASSWORD) {
  await page.getByTestId('login-username').fill(user);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

test('an admin signs in, lands on the page asked for, changes settings, and signs out', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text()); });
  await page.goto(`${server.url}/settings`);
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings/);
  await screenshot(page, 'login');

  await signIn(page, 'alice', 'wrong password!');
  await expect(page.getByTestId('login-error')).toHaveText('Wrong user name or password.');

  await signIn(page, 'alice');
  await expect(page).toHaveURL(`${server.url}/settings`);
  await hydrated(page);
  await expect(page.getByTestId('user-name')).toHaveText('alice');
  await expect(page.getByTestId('create-trail')).toBeVisible();
  await page.getByTestId('new-trail-name').fill('made-by-alice');
  await page.getByTestId('create-trail').click();
  await expect(page.getByTestId('trail-made-by-alice')).toBeVisible();

  await page.goto(`${server.url}/access`);
  await expect(page.getByTestId('audit-log')).toContainText('trail.create');
  await expect(page.getByTestId('audit-log')).toContainText('made-by-alice');
  await expect(page.getByTestId('users')).toContainText('bob');
  await screenshot(page, 'access');

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(`${server.url}/insights`);
  await expect(page).toHaveURL(/\/login\?next=/);
  expect(violations, 'the hydrated pages ran under the Content-Security-Policy without violations').toEqual([]);
});

test('a viewer reads but gets no controls', async ({ page }) => {
  await page.goto(`${server.url}/login`);
  await signIn(page, 'bob');
  await expect(page).toHaveURL(`${server.url}/`);
  await page.goto(`${server.url}/settings`);
  await hydrated(page);
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('create-trail')).toHaveCount(0);
  await expect(page.getByTestId('trail-prod')).toBeVisible();
  await expect(page.locator('a[href="/access"]')).toHaveCount(0);
  await page.goto(`${server.url}/access`);
  await expect(page.getByTestId('access-error')).toContainText('only admins');
});

test('the sign-in form works without JavaScript', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/insights`);
  await signIn(page, 'bob');
  await expect(page).toHaveURL(`${server.url}/insights`);
  await expect(page.getByTestId('insight-row').first()).toBeVisible();
  await context.close();
});

test('a page on another origin cannot delete a trail through a signed-in browser', async ({ page }) => {
  await page.goto(`${server.url}/login`);
  await signIn(page, 'alice');
  await page.goto(`${server.url}/settings`);
  // The real endpoint, as the settings page's own delete form names it.
  const action = await page.getByTestId('trail-prod').locator('form[action*="delete_trail"]').getAttribute('action');
  expect(action).toBeTruthy();
  // The attacker's page: another port is another origin. It posts a plain form at once.
  const evil = http.createServer((_, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<form method="post" action="${server.url}${action}">
      <input name="name" value="prod"><input name="confirm" value="prod"></form>
      <script>document.forms[0].submit()</script>`);
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
  const port = (evil.address() as import('node:net').AddressInfo).port;
  const answered = page.waitForResponse((r) => r.url().includes('delete_trail'));
  await page.goto(`http://127.0.0.1:${port}/`);
  expect((await answered).status()).toBe(403);
  evil.close();
  await page.goto(`${server.url}/settings`);
  await expect(page.getByTestId('trail-prod')).toBeVisible();
});
