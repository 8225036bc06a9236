// A verifier outside Python, with nothing but Node's standard library (node:crypto, fetch):
// what an integrator in another language does.
//
//   node verify.mjs release EXCHANGE_URL ORG SIGNATURE < body
//     checks a release's detached JWS (RFC 7515 appendix F) against ORG's own keys,
//     fetched from EXCHANGE_URL/.well-known/jwks/ORG.json; a key of any other
//     organisation is never used.
//   node verify.mjs webhook EXCHANGE_URL ID TIMESTAMP SIGNATURES < body
//     checks a Standard Webhooks v1a signature against the keys in
//     EXCHANGE_URL/.well-known/webhook-keys.json, refusing a timestamp more than five
//     minutes from now.
//
// Prints the kid (release) or the webhook id and exits 0 when it verifies; otherwise
// prints why and exits 1.
import { createPublicKey, verify } from "node:crypto";

function fail(why) {
  console.log(`refused: ${why}`);
  process.exit(1);
}

async function stdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) fail(`${url} answered ${response.status}`);
  return response.json();
}

async function release(base, org, signature, body) {
  const parts = signature.split(".");
  if (parts.length !== 3 || parts[1] !== "") fail("not a detached compact JWS");
  const [headerPart, , signaturePart] = parts;
  const header = JSON.parse(Buffer.from(headerPart, "base64url"));
  if (!["Ed25519", "EdDSA"].includes(header.alg)) fail(`algorithm ${header.alg}`);
  if ("crit" in header) fail("critical header parameters");
  const jwks = await fetchJson(`${base}/.well-known/jwks/${org}.json`);
  const jwk = jwks.keys.find((k) => k.kid === header.kid && k.org === org);
  if (!jwk) fail(`${header.kid} is not a key of ${org}`);
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  const input = Buffer.from(`${headerPart}.${body.toString("base64url")}`);
  if (!verify(null, input, key, Buffer.from(signaturePart, "base64url"))) {
    fail("the signature does not verify");
  }
  return header.kid;
}

async function webhook(base, id, timestamp, signatures, body) {
  if (!/^[0-9]+$/.test(timestamp)) fail("the timestamp is not an integer");
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) fail("outside the tolerance");
  const published = await fetchJson(`${base}/.well-known/webhook-keys.json`);
  const keys = published.keys.map(({ key }) => {
    const raw = Buffer.from(key.replace(/^whpk_/, ""), "base64");
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
                             format: "jwk" });
  });
  const content = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
  for (const versioned of signatures.split(" ")) {
    const [version, encoded] = versioned.split(",", 2);
    if (version !== "v1a" || !encoded) continue;
    const signature = Buffer.from(encoded, "base64");
    if (keys.some((key) => verify(null, content, key, signature))) return id;
  }
  fail("no v1a signature by the exchange's webhook keys");
}

const [command, ...args] = process.argv.slice(2);
const body = await stdin();
if (command === "release") console.log(await release(...args, body));
else if (command === "webhook") console.log(await webhook(...args, body));
else fail(`unknown command ${command}`);
