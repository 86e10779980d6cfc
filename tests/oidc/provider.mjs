// An OpenID provider configured like ProConnect, for the tests: `node provider.mjs <config.json>`.
// Prints `listening <issuer>` as its first line on stdout, then serves until stdin closes or
// SIGTERM. See tests/common/oidc.rs for the configuration and how the tests drive it.
//
// Routes: the provider under /api/v2 (discovery at /api/v2/.well-known/openid-configuration), the
// login page at /interaction/:uid (POST …/login with `login`, POST …/refuse), and GET /__test/log.
//
// Logout over plain HTTP: GET the end_session URL (keeping the cookies it sets), then POST the
// hidden inputs of the page's form (`xsrf`, `logout=yes`) to the form's action with those cookies;
// the answer is a 303 to `post_logout_redirect_uri?state=…`. Browsers submit the form by script.

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

import * as jose from 'jose';

// oidc-provider warns about the in-memory store, the quick-start defaults and Node 20 (it asks
// for 22): expected here, so kept off the test output.
for (const level of ['info', 'warn']) {
  const print = console[level];
  console[level] = (...args) => {
    if (!/^oidc-provider (NOTICE|WARNING)/.test(String(args[0]))) print(...args);
  };
}
const { default: Provider, interactionPolicy } = await import('oidc-provider');

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const alg = config.signing;
const tamper = config.tamper ?? null;
const MOUNT = '/api/v2';
const SCOPES = ['openid', 'email', 'given_name', 'usual_name', 'uid', 'siret', 'idp_id'];
const ACRS = ['eidas1', 'eidas1-mfa', 'eidas2', 'eidas3'];
const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/jwks',
  end_session: '/session/end',
};

// What the provider saw, for GET /__test/log.
const log = {
  authorizations: [],
  end_sessions: [],
  token_exchanges: 0,
  userinfo_requests: 0,
  errors: [],
};

async function privateJwk(kid) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' };
}

const realJwk = await privateJwk(randomBytes(8).toString('hex'));
const realKey = await jose.importJWK(realJwk, alg);
// Same alg and kid as the real key, never published.
const otherKey = tamper === 'other-key' ? await jose.importJWK(await privateJwk(realJwk.kid), alg) : null;

// The JWT with its payload changed by `change`, signed again by `key` under the same header.
async function resign(jwt, key, change) {
  const header = jose.decodeProtectedHeader(jwt);
  const payload = jose.decodeJwt(jwt);
  change(payload);
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(key);
}

const now = () => Math.floor(Date.now() / 1000);
const ID_TOKEN_TAMPERING = {
  'other-key': [otherKey, () => {}],
  'wrong-audience': [realKey, (p) => { p.aud = 'another-client'; }],
  expired: [realKey, (p) => { p.exp = now() - 3600; p.iat = now() - 7200; }],
};

const TAMPER_MODES = ['other-key', 'wrong-audience', 'expired', 'userinfo-sub'];
if (tamper !== null && !TAMPER_MODES.includes(tamper) && !tamper.startsWith('acr:')) {
  throw new Error(`unknown tamper mode ${tamper}`);
}

function idTokenTampering() {
  if (tamper?.startsWith('acr:')) return [realKey, (p) => { p.acr = tamper.slice(4); }];
  return ID_TOKEN_TAMPERING[tamper];
}

const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const issuer = `http://127.0.0.1:${server.address().port}${MOUNT}`;

// No second login when the account's acr is not among those requested: the relying party must
// notice, as it must with ProConnect.
const policy = interactionPolicy.base();
policy.get('login').checks.remove('essential_acrs');
policy.get('login').checks.remove('essential_acr');

const accounts = config.accounts;
const { client } = config;
const provider = new Provider(issuer, {
  clients: [{
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    // client_secret_basic is accepted as well: oidc-provider treats both as one.
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: alg,
    userinfo_signed_response_alg: alg,
  }],
  jwks: { keys: [realJwk] },
  enabledJWA: { idTokenSigningAlgValues: [alg], userinfoSigningAlgValues: [alg] },
  routes: ROUTES,
  scopes: SCOPES,
  // `acr` in every ID token, as ProConnect does, asked for or not.
  claims: {
    openid: ['sub', 'acr'],
    amr: null,
    auth_time: null,
    ...Object.fromEntries(SCOPES.slice(1).map((scope) => [scope, [scope]])),
  },
  acrValues: ACRS,
  responseTypes: ['code'],
  pkce: { required: () => true },
  clientBasedCORS: () => true,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
  features: {
    devInteractions: { enabled: false },
    dPoP: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    resourceIndicators: { enabled: false },
    claimsParameter: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
  },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = accounts.find((a) => a.sub === sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { email, given_name, usual_name, uid, siret, idp_id } = account;
        return { sub, email, given_name, usual_name, uid, siret, idp_id };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Erreur du fournisseur de test', `<pre>${escape(JSON.stringify(out, null, 2))}</pre>`);
  },
});

for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error',
  'end_session_confirm.error', 'server_error']) {
  provider.on(event, (ctx, err) => {
    log.errors.push({ event, error: err.error, description: err.error_description });
    if (event === 'server_error') console.error(err);
  });
}

// Records the requests and applies the tamper mode to the answers.
provider.use(async (ctx, next) => {
  const query = Object.fromEntries(new URLSearchParams(ctx.querystring));
  if (ctx.path === ROUTES.authorization) log.authorizations.push(query);
  if (ctx.path === ROUTES.end_session) log.end_sessions.push(query);
  await next();
  if (ctx.status !== 200) return;
  if (ctx.path === ROUTES.token && ctx.method === 'POST') {
    log.token_exchanges += 1;
    const tampering = idTokenTampering();
    if (tampering && ctx.body?.id_token) {
      ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, ...tampering) };
    }
  } else if (ctx.path === ROUTES.userinfo) {
    log.userinfo_requests += 1;
    if (tamper === 'userinfo-sub' && typeof ctx.body === 'string') {
      const type = ctx.response.get('content-type');
      ctx.body = await resign(ctx.body, realKey, (p) => { p.sub = `${p.sub}-other`; });
      ctx.set('content-type', type);
    }
  }
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body, head = '') {
  return `<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>${title}</title>${head}</head>
<body><main><h1>${title}</h1>
${body}
</main></body>
</html>`;
}

// The confirmation page, submitted at once by script; `logout=yes` ends the provider's session.
async function logoutSource(ctx, form) {
  const inputs = '<input type="hidden" name="logout" value="yes"/>'
    + '<noscript><button type="submit">Se déconnecter</button></noscript></form>';
  ctx.body = page(
    'Déconnexion du fournisseur de test',
    form.replace('</form>', inputs),
    '<script>document.addEventListener("DOMContentLoaded", () => document.forms[0].submit())</script>',
  );
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = page('Déconnexion du fournisseur de test', '<p>Vous êtes déconnecté.</p>');
}

function loginPage(res, details, error) {
  const uid = escape(details.uid);
  const alert = error ? `<p role="alert">${escape(error)}</p>` : '';
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(page('Connexion au fournisseur de test', `<p>Application : ${escape(details.params.client_id)}</p>
${alert}
<form method="post" action="/interaction/${uid}/login">
<label for="login">Identifiant</label>
<input id="login" name="login" type="text" autocomplete="username" required autofocus>
<button id="se-connecter" type="submit">Se connecter</button>
</form>
<form method="post" action="/interaction/${uid}/refuse">
<button id="refuser" type="submit">Refuser</button>
</form>`));
}

// Consent without a page: every requested scope, and every claim asked through `claims`.
async function grantAll(details, accountId) {
  const { params } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(params.scope);
  if (params.claims) {
    const claims = JSON.parse(params.claims);
    grant.addOIDCClaims([...Object.keys(claims.id_token ?? {}), ...Object.keys(claims.userinfo ?? {})]);
  }
  return grant.save();
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction cookie of another interaction');
  const finish = (result) => provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  if (req.method === 'GET' && !action) {
    // Signed in already, only consent missing: granted at once.
    if (details.prompt.name === 'consent') {
      return finish({ consent: { grantId: await grantAll(details, details.session.accountId) } });
    }
    return loginPage(res, details);
  }
  if (req.method !== 'POST') throw new Error('method not allowed');
  if (action === 'refuse') {
    return finish({ error: 'access_denied', error_description: "L'agent a refusé la connexion." });
  }
  const login = (await readForm(req)).get('login') ?? '';
  const account = accounts.find((a) => a.login === login);
  if (!account) return loginPage(res, details, `Identifiant inconnu : ${login}`);
  const amr = account.acr === 'eidas1' ? ['pwd'] : ['pwd', 'mfa'];
  return finish({
    login: { accountId: account.sub, acr: account.acr, amr },
    consent: { grantId: await grantAll(details, account.sub) },
  });
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  try {
    if (pathname === MOUNT || pathname.startsWith(`${MOUNT}/`)) {
      // Mounted as a framework would: oidc-provider finds its mount path from originalUrl.
      req.originalUrl = req.url;
      req.url = req.url.slice(MOUNT.length) || '/';
      return callback(req, res);
    }
    if (pathname === '/__test/log' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(log));
    }
    const match = /^\/interaction\/([\w-]+)(?:\/(login|refuse))?$/.exec(pathname);
    if (match) return await interaction(req, res, match[1], match[2]);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  } catch (err) {
    log.errors.push({ event: 'interaction', error: err.name, description: err.message });
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${err.name}: ${err.message}`);
  }
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
console.log(`listening ${issuer}`);
