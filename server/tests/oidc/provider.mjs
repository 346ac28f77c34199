// A real OpenID provider for trailsight's single sign-on tests: panva's certified
// `oidc-provider`, on 127.0.0.1, with one confidential client, PKCE required, a `groups`
// claim in the ID token and a sign-in form that checks the test accounts' passwords.
//
//   node provider.mjs PORT
//
// The client comes from the environment: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and
// OIDC_REDIRECT_URIS (comma-separated). The issuer is http://127.0.0.1:PORT. It prints
// "listening on <issuer>" once it accepts connections. On Node 20 oidc-provider 9 warns that
// it prefers Node 22; it works (the tests pass on Node 20).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node provider.mjs PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const env = (name, fallback) => process.env[name] ?? fallback;

// The test accounts: alice administers, bob reads, carol is in no trailsight group.
const ACCOUNTS = {
  alice: { password: 'alice-password', email: 'alice@example.test', name: 'Alice', groups: ['trailsight-admins', 'staff'] },
  bob: { password: 'bob-password', email: 'bob@example.test', name: 'Bob', groups: ['trailsight-viewers'] },
  carol: { password: 'carol-password', email: 'carol@example.test', name: 'Carol', groups: ['staff'] },
};

// A fresh signing key (and key ID) per run, as a key rotation would bring: the relying party
// must fetch it from the JWKS, and a restart on the same port rotates the key.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env('OIDC_CLIENT_ID', 'trailsight'),
      client_secret: env('OIDC_CLIENT_SECRET', 'trailsight-test-secret'),
      redirect_uris: env('OIDC_REDIRECT_URIS', 'http://127.0.0.1:3000/auth/oidc/callback').split(','),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Every client must send a PKCE challenge (by default only public clients must).
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // Put the scopes' claims in the ID token itself (by default only the userinfo endpoint has
  // them when an access token is issued too). OIDC_CLAIMS_IN_ID_TOKEN=false keeps the
  // default, so tests can check that trailsight then reads them from the userinfo endpoint.
  conformIdTokenClaims: env('OIDC_CLAIMS_IN_ID_TOKEN', 'true') === 'false',
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // One first-party client: consent is implied, so grant what it asks for at once.
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: account.email,
          email_verified: true,
          name: account.name,
          preferred_username: id,
          groups: account.groups,
        };
      },
    };
  },
});

const page = (uid, message = '') => `<!doctype html>
<html><head><meta charset="utf-8"><title>Test identity provider: sign in</title></head>
<body><h1>Test identity provider</h1>
${message ? `<p role="alert">${message}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Username <input name="username" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>`;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The interaction routes: a sign-in form that checks the accounts above; the rest is the provider's.
const callback = provider.callback();
const server = createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== match[1]) throw new Error('interaction mismatch');
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'GET') {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      return res.end(page(details.uid));
    }
    if (req.method === 'POST' && match[2]) {
      const form = await readForm(req);
      const name = form.get('username') ?? '';
      const account = ACCOUNTS[name];
      if (!account || account.password !== form.get('password')) {
        res.statusCode = 401;
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        return res.end(page(details.uid, 'Wrong username or password.'));
      }
      return await provider.interactionFinished(req, res, { login: { accountId: name } }, { mergeWithLastSubmission: false });
    }
    res.statusCode = 405;
    res.end();
  } catch (err) {
    console.error(err);
    res.statusCode = 400;
    res.end(String(err.message ?? err));
  }
});

server.listen(port, '127.0.0.1', () => console.log(`listening on ${issuer}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
