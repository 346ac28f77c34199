// Single sign-on through a real OpenID provider: panva's oidc-provider (server/tests/oidc,
// its own npm packages) on a free port, and a trailsight server started with --oidc-* flags
// that requires sign-in and has no users of its own. People sign in on the provider's form in
// Chromium: alice (group trailsight-admins) gets the admin's controls, bob
// (trailsight-viewers) reads only, carol (in neither group) is refused with a page that says
// why. Nothing is mocked: discovery, keys, PKCE, the code exchange and the ID token's checks
// are the real ones.
import { test, expect, Page } from '@playwright/test';
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { hydrated, screenshot, startServer, Server } from './helpers';

const PROVIDER = path.resolve(__dirname, '../../server/tests/oidc/provider.mjs');
const CLIENT_SECRET = 'e2e-client-secret';
let provider: ChildProcess | undefined;
let providerPort: number;
let redirectUri: string;
let issuer: string;
let server: Server;

/** A port nothing listens on now (the OS picks it). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

/** Starts the provider on `port`; resolves once it says it listens. */
async function startProvider(port: number, redirectUri: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [PROVIDER, String(port)], {
    env: { ...process.env, OIDC_CLIENT_ID: 'trailsight', OIDC_CLIENT_SECRET: CLIENT_SECRET, OIDC_REDIRECT_URIS: redirectUri, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the OpenID provider did not start within 20 s: ${log}`)), 20_000);
    child.stdout!.on('data', (d) => { if (String(d).includes('listening on')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the OpenID provider exited (${code}): ${log}`)); });
  });
  return child;
}

test.beforeAll(async () => {
  const serverPort = await freePort();
  providerPort = await freePort();
  const url = `http://127.0.0.1:${serverPort}`;
  redirectUri = `${url}/auth/oidc/callback`;
  issuer = `http://127.0.0.1:${providerPort}`;
  provider = await startProvider(providerPort, redirectUri);
  // The secret from the environment, as the docs advise (arguments show in `ps`).
  process.env.TRAILSIGHT_OIDC_CLIENT_SECRET = CLIENT_SECRET;
  server = await startServer(serverPort, [
    '--auth', 'required', '--public-url', url,
    '--oidc-issuer', issuer, '--oidc-client-id', 'trailsight',
    '--oidc-admin-values', 'trailsight-admins', '--oidc-viewer-values', 'trailsight-viewers',
  ]);
});

test.afterAll(() => {
  server?.stop();
  provider?.kill('SIGTERM');
});

/** From trailsight's sign-in page through the provider's form. */
async function signInWithProvider(page: Page, user: string, at = issuer) {
  await page.getByTestId('login-oidc').click();
  await expect(page).toHaveURL(new RegExp(`^${at}/interaction/`));
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(`${user}-password`);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('an admin signs in with the identity provider and gets the controls', async ({ page }) => {
  await page.goto(`${server.url}/settings`);
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings/);
  await expect(page.getByTestId('login-oidc')).toHaveText('Sign in with 127.0.0.1');
  await screenshot(page, 'login-sso');

  await signInWithProvider(page, 'alice');
  await expect(page).toHaveURL(`${server.url}/settings`);
  await hydrated(page);
  await expect(page.getByTestId('user-name')).toHaveText('alice@example.test');
  await page.getByTestId('new-trail-name').fill('made-with-sso');
  await page.getByTestId('create-trail').click();
  await expect(page.getByTestId('trail-made-with-sso')).toBeVisible();

  await page.goto(`${server.url}/access`);
  await expect(page.getByTestId('audit-log')).toContainText('user.sign_in');
  await expect(page.getByTestId('audit-log')).toContainText(`single sign-on with ${issuer} as admin`);
  await expect(page.getByTestId('audit-log')).toContainText('made-with-sso');

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto(`${server.url}/settings`);
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('a viewer signs in with the identity provider and reads without controls', async ({ page }) => {
  await page.goto(`${server.url}/login?next=%2Fsettings`);
  await signInWithProvider(page, 'bob');
  await expect(page).toHaveURL(`${server.url}/settings`);
  await hydrated(page);
  await expect(page.getByTestId('user-name')).toHaveText('bob@example.test');
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('create-trail')).toHaveCount(0);
  await page.goto(`${server.url}/access`);
  await expect(page.getByTestId('access-error')).toContainText('only admins');
});

test('someone in no trailsight group is refused, and stays signed out', async ({ page }) => {
  await page.goto(`${server.url}/login`);
  await signInWithProvider(page, 'carol');
  await expect(page.getByTestId('sso-error')).toContainText('carol@example.test');
  await expect(page.getByTestId('sso-error')).toContainText('not in a group that may use trailsight');
  await screenshot(page, 'sso-refused');
  await page.goto(`${server.url}/insights`);
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('a callback this browser did not start signs no one in', async ({ page, request }) => {
  // A code and state from elsewhere (a link an attacker sends): no pending-sign-in cookie.
  const forged = await request.get(`${server.url}/auth/oidc/callback?code=stolen&state=guess`);
  expect(forged.status()).toBe(400);
  expect(await forged.text()).toContain('started in another browser');
  // A real start, then a state that is not the one it sent.
  await page.goto(`${server.url}/auth/oidc/start?next=/`);
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  const reply = await page.goto(`${server.url}/auth/oidc/callback?code=stolen&state=guess`);
  expect(reply!.status()).toBe(400);
  await expect(page.getByTestId('sso-error')).toContainText('does not match');
});

test('sign-in goes on working after the provider changes its signing key', async ({ page }) => {
  // The provider makes a fresh key each time it starts: a restart is a key rotation that
  // trailsight, discovered at its own start-up, has not seen.
  const stopped = new Promise((r) => provider!.once('exit', r));
  provider!.kill('SIGTERM');
  await stopped;
  provider = await startProvider(providerPort, redirectUri);
  await page.goto(`${server.url}/login?next=%2Fsettings`);
  await signInWithProvider(page, 'alice');
  await expect(page).toHaveURL(`${server.url}/settings`);
  await expect(page.getByTestId('user-name')).toHaveText('alice@example.test');
});

test.describe('a provider that puts the groups only in its user info', () => {
  // As the core spec's letter has it when an access token is issued too (oidc-provider's
  // default, Authelia's since 4.39): the ID token carries little more than the subject.
  let other: { provider: ChildProcess; server: Server; issuer: string } | undefined;

  test.beforeAll(async () => {
    const [providerPort, serverPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${serverPort}`;
    const otherIssuer = `http://127.0.0.1:${providerPort}`;
    const provider = await startProvider(providerPort, `${url}/auth/oidc/callback`, { OIDC_CLAIMS_IN_ID_TOKEN: 'false' });
    const server = await startServer(serverPort, [
      '--auth', 'required', '--public-url', url, '--oidc-issuer', otherIssuer, '--oidc-client-id', 'trailsight',
      '--oidc-admin-values', 'trailsight-admins', '--oidc-viewer-values', 'trailsight-viewers',
    ]);
    other = { provider, server, issuer: otherIssuer };
  });

  test.afterAll(() => {
    other?.server.stop();
    other?.provider.kill('SIGTERM');
  });

  test('roles and names are read from the user info', async ({ page }) => {
    await page.goto(`${other!.server.url}/login?next=%2Fsettings`);
    await signInWithProvider(page, 'bob', other!.issuer);
    await expect(page).toHaveURL(`${other!.server.url}/settings`);
    await expect(page.getByTestId('user-name')).toHaveText('bob@example.test');
    await expect(page.getByTestId('read-only')).toBeVisible();
  });
});
