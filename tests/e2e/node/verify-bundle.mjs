// An archive bundle checked outside Python, with nothing but Node's standard library
// (node:crypto, node:fs, node:readline): what a provider's auditor does in another language,
// years later, from docs/audit-bundles.md alone.
//
//   node verify-bundle.mjs BUNDLE
//
// Checks the signed tree head (its compact JWS, Ed25519, against the log operator's keys in
// the bundle), the checkpoint, every witness cosignature (C2SP tlog-cosignature), and each
// entry: its inclusion proof to the head (RFC 9162), its provider, its period and its order.
// The RFC 3161 token needs a CMS parser, which Node's standard library lacks: it is left to
// `openssl ts -verify` (docs/audit-bundles.md). Prints "verified N entries" and exits 0, or
// "refused: why" and exits 1.
import { createHash, createPublicKey, verify } from "node:crypto";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

function fail(why) {
  console.log(`refused: ${why}`);
  process.exit(1);
}

const sha256 = (...parts) => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const b64 = (text) => Buffer.from(text, "base64");
const ed25519 = (raw) =>
  createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
                    format: "jwk" });

function checkHead(header) {
  const head = header.head;
  const [protectedPart, payloadPart, signaturePart] = head.signature.split(".");
  const jose = JSON.parse(Buffer.from(protectedPart, "base64url"));
  if (!["Ed25519", "EdDSA"].includes(jose.alg)) fail(`head: algorithm ${jose.alg}`);
  const jwk = header.keys.jwks.keys.find((k) => k.kid === jose.kid && k.org === header.log_org);
  if (!jwk) fail(`head: ${jose.kid} is not a key of ${header.log_org}`);
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  if (!verify(null, Buffer.from(`${protectedPart}.${payloadPart}`), key,
              Buffer.from(signaturePart, "base64url"))) {
    fail("head: the signature does not verify");
  }
  const signed = JSON.parse(Buffer.from(payloadPart, "base64url"));
  for (const name of ["tree_size", "root_hash", "timestamp"]) {
    if (signed[name] !== head[name]) fail(`head: ${name} differs from what is signed`);
  }
  const before = signed.previous ?? null;
  const shown = head.previous ?? null;
  if (JSON.stringify(before) !== JSON.stringify(shown)) fail("head: previous differs");
  const checkpoint = `${header.origin}\n${head.tree_size}\n${head.root_hash}\n`;
  if (header.checkpoint !== checkpoint) fail("checkpoint: it does not name the head");
  return { size: head.tree_size, root: b64(head.root_hash), checkpoint };
}

function checkCosignatures(header, checkpoint) {
  const witnesses = new Map();
  for (const vkey of header.keys.witnesses) {
    const [name, id, key] = [vkey.split("+")[0], vkey.split("+")[1],
                             vkey.split("+").slice(2).join("+")];
    const raw = b64(key);
    if (raw.length !== 33 || raw[0] !== 0x04) fail(`keys: ${name} is not an Ed25519 cosigner`);
    const keyId = sha256(Buffer.from(`${name}\n`), raw).subarray(0, 4);
    if (keyId.toString("hex") !== id) fail(`keys: ${name}'s key id does not match`);
    witnesses.set(name, ed25519(raw.subarray(1)));
  }
  const cosigned = [];
  for (const cosignature of header.cosignatures) {
    const key = witnesses.get(cosignature.witness);
    if (!key) continue;
    const signature = b64(cosignature.signature);
    const time = signature.readBigUInt64BE(0);
    if (String(time) !== String(cosignature.timestamp)) fail("cosignatures: time differs");
    const message = Buffer.from(`cosignature/v1\ntime ${time}\n${checkpoint}`);
    if (!verify(null, message, key, signature.subarray(8))) {
      fail(`cosignatures: ${cosignature.witness}'s cosignature does not verify`);
    }
    cosigned.push(cosignature.witness);
  }
  return cosigned;
}

// RFC 9162 section 2.1.3.2
function includes(leafHash, index, size, path, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

const [file] = process.argv.slice(2);
const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
let header = null;
let head = null;
let count = 0;
let after = -1;
for await (const line of lines) {
  if (header === null) {
    header = JSON.parse(line);
    if (header.format !== "onceonly-audit-bundle/v1") fail("header: not a bundle");
    head = checkHead(header);
    const cosigned = checkCosignatures(header, head.checkpoint);
    console.log(`cosigned by: ${cosigned.join(", ") || "none"}`);
    continue;
  }
  count += 1;
  const row = JSON.parse(line);
  const leaf = Buffer.from(row.leaf, "utf8");
  const entry = JSON.parse(row.leaf);
  if (entry.index <= after) fail(`entry ${entry.index} is out of order or repeated`);
  after = entry.index;
  if (header.provider !== null && entry.provider_id !== header.provider) {
    fail(`entry ${entry.index} is not about ${header.provider}'s data`);
  }
  if (!(header.from <= entry.at && entry.at < header.to)) {
    fail(`entry ${entry.index} is outside the period`);
  }
  const leafHash = sha256(Buffer.from([0]), leaf);
  if (!includes(leafHash, entry.index, head.size, row.proof.map(b64), head.root)) {
    fail(`entry ${entry.index}: its inclusion proof does not lead to the head`);
  }
}
if (header === null) fail("empty");
if (count !== header.entries) fail(`entries: ${count} lines, the header says ${header.entries}`);
console.log(`verified ${count} entries`);
