// Checks one entry of the citizen's access log in their own browser (no inline script: CSP).
// It fetches the entry, its RFC 9162 inclusion proof, the signed tree head and the log
// operator's public keys, then verifies with Web Crypto: the leaf hash and the audit path to
// the head's root (SHA-256), and the head's signature (Ed25519, a compact JWS). It says in
// words what it checked, and what did not hold.
(function () {
  "use strict";
  const enc = new TextEncoder();

  function fromBase64(text) {
    const bin = atob(text);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  function fromBase64Url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    return fromBase64(b64 + "===".slice((b64.length + 3) % 4));
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function same(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  // RFC 9162 2.1.1: a leaf hashes with 0x00 before it, an interior node with 0x01.
  const leafHash = (leaf) => sha256(concat(new Uint8Array([0]), leaf));
  const nodeHash = (left, right) => sha256(concat(new Uint8Array([1]), left, right));

  // RFC 9162 2.1.3.2: the root an inclusion proof leads to, or null if it cannot lead to one.
  async function rootFromPath(index, size, leaf, path) {
    if (index >= size) return null;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of path) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  // The same JSON value, whatever the order of object keys.
  function sameJson(a, b) {
    if (Array.isArray(a) || Array.isArray(b)) {
      return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
        a.every((v, i) => sameJson(v, b[i]));
    }
    if (a && b && typeof a === "object" && typeof b === "object") {
      const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
      return sameJson(ka, kb) && ka.every((k) => sameJson(a[k], b[k]));
    }
    return a === b;
  }

  async function fetchJson(url) {
    const answer = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!answer.ok) throw new Error("the exchange did not give " + url + " (HTTP " + answer.status + ")");
    return answer.json();
  }

  // The head's compact JWS, checked against the log operator's Ed25519 keys only.
  async function headSignatureHolds(jws, jwks, logOrg) {
    const [header, payload, signature] = jws.split(".");
    if (!header || !payload || !signature) return { ok: false, why: "the signature is not a compact JWS" };
    const protectedHeader = JSON.parse(new TextDecoder().decode(fromBase64Url(header)));
    if (!["EdDSA", "Ed25519"].includes(protectedHeader.alg)) {
      return { ok: false, why: "the tree head is not signed with Ed25519" };
    }
    const keys = (jwks.keys || []).filter((k) => k.org === logOrg && k.kty === "OKP" &&
      k.crv === "Ed25519" && (!protectedHeader.kid || k.kid === protectedHeader.kid));
    if (keys.length === 0) return { ok: false, why: "no public key of the log's operator matches the signature" };
    for (const jwk of keys) {
      const key = await crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x },
        { name: "Ed25519" }, false, ["verify"]);
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, fromBase64Url(signature),
                                     enc.encode(header + "." + payload))) {
        return { ok: true, kid: jwk.kid,
                 signed: JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) };
      }
    }
    return { ok: false, why: "the tree head's signature does not match the operator's public key" };
  }

  async function check(index, logOrg) {
    const steps = [];
    const fail = (why) => ({ ok: false, steps, why });
    const entry = await fetchJson("/citizen/access/" + index + "/entry.json");
    const head = await fetchJson("/v1/audit/tree-head");
    if (index >= head.tree_size) {
      return fail("the entry is not yet under a signed tree head; the log signs a new one every few seconds, so try again shortly");
    }
    const proof = await fetchJson("/v1/audit/proof/inclusion?index=" + index + "&tree_size=" + head.tree_size);
    const jwks = await fetchJson("/.well-known/jwks.json");

    const leaf = fromBase64(entry.leaf);
    if (!sameJson(JSON.parse(new TextDecoder().decode(leaf)), entry.entry) || entry.entry.index !== index) {
      return fail("the entry shown is not the entry the log holds");
    }
    steps.push("The entry shown is exactly the record the log holds, at position " + index + ".");
    const hashed = await leafHash(leaf);
    if (!same(hashed, fromBase64(proof.leaf_hash)) || proof.leaf_index !== index) {
      return fail("the entry's fingerprint (SHA-256) is not the one the proof is about");
    }
    steps.push("Its SHA-256 fingerprint matches the one the inclusion proof is about.");
    const root = await rootFromPath(index, proof.tree_size, hashed, proof.audit_path.map(fromBase64));
    if (root === null || !same(root, fromBase64(head.root_hash)) || proof.tree_size !== head.tree_size) {
      return fail("the inclusion proof does not lead to the root of the log's signed tree head, so the entry is not shown to be in the log");
    }
    steps.push("The inclusion proof (" + proof.audit_path.length + " hashes) leads from it to the root of the log of " + head.tree_size + " entries.");
    const signature = await headSignatureHolds(head.signature, jwks, logOrg);
    if (!signature.ok) return fail(signature.why);
    if (signature.signed.root_hash !== head.root_hash || signature.signed.tree_size !== head.tree_size) {
      return fail("the signed tree head says something other than what its signature covers");
    }
    steps.push("That root is signed with the exchange's published Ed25519 key (" + signature.kid + "), checked by your browser.");
    return { ok: true, steps };
  }

  function show(result) {
    const out = document.getElementById("verify-result");
    const list = document.getElementById("verify-steps");
    list.replaceChildren(...result.steps.map((s) => {
      const li = document.createElement("li");
      li.textContent = s;
      return li;
    }));
    const strong = document.createElement("strong");
    strong.textContent = result.ok ? "Verified in your browser." : "Does not verify.";
    out.replaceChildren(strong, document.createTextNode(" " + (result.ok
      ? "This entry is in the exchange's signed log, and could not be changed or removed without it showing."
      : "Your browser found that " + result.why + ".")));
    out.className = result.ok ? "govuk-inset-text verified" : "govuk-inset-text error";
  }

  function start() {
    const root = document.getElementById("verify");
    if (!root) return;
    const index = Number(root.dataset.index), logOrg = root.dataset.logOrg;
    document.getElementById("verify-button").addEventListener("click", async () => {
      document.getElementById("verify-result").textContent = "Checking…";
      try {
        show(await check(index, logOrg));
      } catch (problem) {
        show({ ok: false, steps: [], why: problem.message || String(problem) });
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
