// Real OpenID providers (panva's oidc-provider) for the sign-in tests and the demo: one per
// path on one port, each configured from a JSON file (node provider.mjs CONFIG.json):
//
//   {"port": 0, "providers": [{"path": "/dwp", "clients": [...], "accounts": {...},
//     "one_login": false}], "identity_issuer": "...", "identity_key": {private JWK}}
//
// An account is the claims its person gets ("disabled": true: the provider refuses them).
// A One Login-like provider also issues the identity claim, a JWT signed by the identity
// issuer's key (or its own "identity_key", as an impostor would), and takes the `vtr`
// parameter; its clients get pairwise `sub`s.
// It prints {"port": N} once listening. For the tests only, POST /_test/mode with
// {"path": "/dwp", "mode": "..."} makes that provider's next token answer carry a bad ID
// token (see forge below), and {"path": "/dwp", "mode": {"state": "..."}} its next answer
// to the client's redirect URI carry other parameters: the exchange's own client code meets
// them as it would a provider gone wrong, or an attacker's answer in its place.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const IDENTITY_CLAIM = 'https://vocab.account.gov.uk/v1/coreIdentityJWT';
const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const server = http.createServer();
await new Promise((resolve) => { server.listen(config.port || 0, '127.0.0.1', resolve); });
const base = `http://127.0.0.1:${server.address().port}`;
const modes = new Map();
const mounts = new Map();

async function signingKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}


function pairwise(accountId, client) {
  return createHash('sha256').update(`${client.sectorIdentifier}|${accountId}|onceonly-tests`)
    .digest('hex');
}

async function identityJwt(claims, sub, client, jwk) {
  return new jose.SignJWT({ vot: 'P2', vc: {
    type: ['VerifiableCredential', 'IdentityCheckCredential'],
    credentialSubject: {
      name: [{ nameParts: [{ type: 'GivenName', value: claims.given_name },
                           { type: 'FamilyName', value: claims.family_name }] }],
      birthDate: [{ value: claims.birthdate }],
    },
  } }).setProtectedHeader({ alg: 'ES256', kid: jwk.kid })
    .setIssuer(config.identity_issuer).setSubject(sub).setAudience(client.clientId)
    .setIssuedAt().setNotBefore('0s').setExpirationTime('1h')
    .sign(await jose.importJWK(jwk, 'ES256'));
}

// A bad ID token, as a provider gone wrong (or an attacker in its place) would send.
async function forge(mode, idToken, key, issuer) {
  const header = jose.decodeProtectedHeader(idToken);
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const resign = async (changed, signWith = key, alg = 'RS256') =>
    new jose.SignJWT({ ...claims, ...changed }).setProtectedHeader({ alg, kid: header.kid })
      .sign(signWith);
  switch (mode) {
    case 'wrong_nonce': return resign({ nonce: 'another-sign-in' });
    case 'expired': return resign({ iat: now - 7200, exp: now - 3600 });
    case 'wrong_audience': return resign({ aud: 'someone-else' });
    case 'wrong_issuer': return resign({ iss: `${issuer}-elsewhere` });
    case 'alg_none': {
      const part = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
      return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
    }
    case 'hs256': return resign({}, new TextEncoder().encode('a-secret-anyone-might-know'),
      'HS256');
    case 'unpublished_key': {
      const { privateKey } = await jose.generateKeyPair('RS256');
      return resign({}, privateKey);
    }
    default: throw new Error(`no such mode ${mode}`);
  }
}

for (const spec of config.providers) {
  const issuer = `${base}${spec.path}`;
  const jwk = await signingKey();
  const key = await jose.importJWK(jwk, 'RS256');
  const provider = new Provider(issuer, {
    clients: spec.clients,
    jwks: { keys: [jwk] },
    async findAccount(ctx, id) {
      const claims = spec.accounts[id];
      if (!claims || claims.disabled) return undefined;
      return {
        accountId: id,
        async claims(use, scope, requested) {
          const client = ctx.oidc.client;
          const sub = client && client.subjectType === 'pairwise' ? pairwise(id, client) : id;
          const given = { ...claims, sub };
          if (spec.one_login && requested && IDENTITY_CLAIM in requested && use === 'userinfo') {
            // A provider's own identity key (an impostor's), else the identity issuer's.
            given[IDENTITY_CLAIM] = await identityJwt(claims, sub, client,
              spec.identity_key || config.identity_key);
          }
          return given;
        },
      };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'birthdate'],
      groups: ['groups'],
      org: ['org'],
      ...(spec.one_login ? { [IDENTITY_CLAIM]: null } : {}),
    },
    scopes: ['openid', 'profile', 'groups', 'org'],
    extraParams: spec.one_login ? ['vtr'] : [],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (ctx, accountId, client) => pairwise(accountId, client),
    features: {
      devInteractions: { enabled: true }, // its plain login form: any password
      claimsParameter: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    // The claims of the scopes granted in the ID token itself, as departments' providers
    // put their groups there.
    conformIdTokenClaims: false,
    // Staff and citizens are not asked to consent to their own organisation's service.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid profile groups org');
      if (spec.one_login) grant.addOIDCClaims([IDENTITY_CLAIM]);
      await grant.save();
      return grant;
    },
    ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60 },
  });
  provider.use(async (ctx, next) => {
    await next();
    const mode = modes.get(spec.path);
    if (!mode) return;
    const location = ctx.response.get('location');
    if (typeof mode === 'object' && location && location.includes('code=')) {
      // The answer sent back to the client, with parameters changed on the way.
      modes.delete(spec.path);
      const url = new URL(location);
      for (const [name, value] of Object.entries(mode)) url.searchParams.set(name, value);
      ctx.redirect(url.href);
    } else if (typeof mode === 'string' && ctx.path === '/token' && ctx.body?.id_token) {
      modes.delete(spec.path);
      ctx.body = { ...ctx.body, id_token: await forge(mode, ctx.body.id_token, key, issuer) };
    }
  });
  mounts.set(spec.path, provider.callback());
}

server.on('request', (req, res) => {
  if (req.method === 'POST' && req.url === '/_test/mode') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      const { path, mode } = JSON.parse(body);
      modes.set(path, mode);
      res.writeHead(204).end();
    });
    return;
  }
  const path = [...mounts.keys()].find((p) => req.url === p || req.url.startsWith(`${p}/`)
    || req.url.startsWith(`${p}?`));
  if (!path) {
    res.writeHead(404).end();
    return;
  }
  req.originalUrl = req.url;
  req.url = req.url.slice(path.length) || '/';
  mounts.get(path)(req, res);
});

// Whoever started it holds its standard input: when they are gone, so is the provider.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
