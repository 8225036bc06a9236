"""A small typed client for the exchange: queries, agreements, signature checks, and an
outside check of the audit log with nothing but the exchange's public keys. Requests the
exchange turns away for now (429, 503) are sent again after the wait its Retry-After asks."""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from onceonly_client import merkle
from onceonly_client.cosignatures import CosignatureInvalid, Witness, verify_cosignature
from onceonly_client.heads import DEFAULT_LOG_ORG, SignedTreeHead, unb64, verify_tree_head
from onceonly_client.jwe import decrypt_with
from onceonly_client.signatures import SignatureInvalid, verify_compact, verify_detached

SIGNATURE_HEADER = "Onceonly-Signature"
RETRIED = frozenset({429, 503})  # turned away before anything was done: safe to send again


class ExchangeError(Exception):
    """A refusal from the exchange, with its status, reason code and detail."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class VerifiedRelease:
    release_id: str
    agreement_id: int
    subject: dict[str, str]
    data: dict[str, Any]
    released_at: str
    signed_by: str  # kid of the provider key that signed it
    provider: str  # the agreement's provider: the only organisation whose key may sign it
    sources: dict[str, str] = field(default_factory=dict)  # each field's source label


@dataclass
class LogCheck:
    """What an outside check of the audit log found."""

    head: SignedTreeHead | None = None
    consistent_from: int | None = None  # size of the earlier head proven to be extended
    sampled: list[int] = field(default_factory=list)  # indexes whose inclusion was proven
    entries_read: int = 0  # of those, entries whose leaf bytes were also checked
    cosigned_by: list[str] = field(default_factory=list)  # witnesses whose cosignature holds
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.head is not None and not self.problems


def _check_cosignatures(check: LogCheck, document: dict[str, Any],
                        witnesses: Sequence[Witness], required: int) -> None:
    """The head's cosignatures by the witnesses named (each over the head as a checkpoint);
    a problem if fewer than `required` verify."""
    body = str(document.get("checkpoint") or "")
    lines = body.split("\n")
    if len(lines) != 4 or lines[1:3] != [str(document["tree_size"]), document["root_hash"]]:
        check.problems.append("the tree head's checkpoint does not name its size and root")
        return
    known = {witness.name: witness for witness in witnesses}
    for cosignature in document.get("cosignatures") or []:
        witness = known.get(cosignature.get("witness"))
        if witness is None:
            continue  # C2SP: cosignatures of unknown witnesses are ignored
        try:
            verify_cosignature(witness, body.encode(), unb64(cosignature["signature"]))
        except (CosignatureInvalid, KeyError, ValueError) as exc:
            check.problems.append(f"{witness.name}'s cosignature does not verify: {exc}")
            continue
        check.cosigned_by.append(witness.name)
    if len(check.cosigned_by) < required:
        check.problems.append(f"the tree head carries {len(check.cosigned_by)} valid "
                              f"cosignatures of the witnesses named, {required} required")


class OnceonlyClient:
    """`signing_key`: the organisation's key; with it every request is signed (RFC 9421
    HTTP Message Signatures, Ed25519) over its method, URL and body digest, with a fresh
    nonce and the current time, so the exchange knows the organisation sent it and refuses
    it if replayed. The bearer token still names the officer acting within it.

    Every signature is checked against the keys of the organisation that must have made it,
    never any key the JWKS holds: a release against its agreement's provider's, a consent
    receipt and a tree head against the operator's (`operator`)."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", token: str | None = None, *,
                 http: httpx.Client | None = None,
                 signing_key: Any = None,
                 operator: str = DEFAULT_LOG_ORG,
                 retries: int = 3, max_wait: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """`signing_key`: an Ed25519 key with `kid` and `key` (a joserfc OKPKey), as the
        exchange's SigningKey; signing needs the `signatures` extra. `retries`: how many
        times a request turned away with 429 or 503 is sent again, each after the wait its
        Retry-After asks (else 0.5 s, doubling), never longer than `max_wait`: a longer
        wait is answered at once with the refusal."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = http or httpx.Client(base_url=base_url, timeout=30)
        self.headers = headers
        self.signing_key = signing_key
        self.operator = operator
        self.retries, self.max_wait, self.sleep = retries, max_wait, sleep
        self._jwks: dict[str, Any] | None = None
        self._providers: dict[int, str] = {}

    def with_token(self, token: str) -> OnceonlyClient:
        """The same connection (and signing key), acting as someone else."""
        other = OnceonlyClient(token=token, http=self.http, signing_key=self.signing_key,
                               operator=self.operator, retries=self.retries,
                               max_wait=self.max_wait, sleep=self.sleep)
        other._jwks = self._jwks
        return other

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.signing_key is None:
            return self.http.request(method, path, headers=self.headers, **kwargs)
        # Deferred on purpose: signing requests needs the `signatures` extra.
        from onceonly_client.http_signatures import sign as sign_request

        # Signed afresh each time: a new nonce, or the exchange refuses it as a replay.
        request = self.http.build_request(method, path, headers=self.headers, **kwargs)
        sign_request(request, self.signing_key.key.private_key, self.signing_key.kid,
                     request.read())
        return self.http.send(request)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._send(method, path, **kwargs)
        for attempt in range(self.retries):
            if response.status_code not in RETRIED:
                break
            wait = retry_after(response, 0.5 * 2 ** attempt)
            if wait > self.max_wait:
                break
            self.sleep(wait)
            response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
                raise ExchangeError(response.status_code, problem["code"], problem["detail"])
            except (ValueError, KeyError):
                raise ExchangeError(response.status_code, "http_error", response.text) from None
        return response

    def jwks(self, refresh: bool = False) -> dict[str, Any]:
        if self._jwks is None or refresh:
            self._jwks = self._call("GET", "/.well-known/jwks.json").json()
        return self._jwks

    def catalogue(self) -> dict[str, Any]:
        return self._call("GET", "/v1/catalogue").json()

    def query(self, agreement_id: int, scheme: str, value: str, fields: list[str],
              purpose: str) -> VerifiedRelease:
        """Ask for fields of one person; the answer is returned only if it is a release under
        this agreement signed by the agreement's provider."""
        response = self._call("POST", "/v1/queries", json={
            "agreement_id": agreement_id,
            "subject": {"scheme": scheme, "value": value},
            "fields": fields,
            "purpose": purpose,
        })
        body = response.json()
        if body.get("agreement_id") != agreement_id:
            raise SignatureInvalid(f"the answer is a release under agreement "
                                   f"{body.get('agreement_id')}, not {agreement_id}")
        provider = self.provider_of(agreement_id)
        signature = response.headers.get(SIGNATURE_HEADER, "")
        # The body is the signed payload itself (RFC 8785 JSON): checked as it came.
        kid = verify_detached(signature, response.content, self.jwks(), provider)
        return VerifiedRelease(body["release_id"], body["agreement_id"], body["subject"],
                               body["data"], body["released_at"], kid, provider,
                               body.get("sources", {}))

    def provider_of(self, agreement_id: int) -> str:
        """The agreement's provider (read once: an agreement never changes provider)."""
        if agreement_id not in self._providers:
            self._providers[agreement_id] = self.agreement(agreement_id)["provider"]
        return self._providers[agreement_id]

    def agreement(self, agreement_id: int) -> dict[str, Any]:
        return self._call("GET", f"/v1/agreements/{agreement_id}").json()

    def agreements(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/agreements").json()

    def create_agreement(self, body: dict[str, Any]) -> dict[str, Any]:
        """Draft an agreement; `body` as the API takes it (dates as ISO 8601 strings)."""
        return self._call("POST", "/v1/agreements", json=body).json()

    def transition(self, agreement_id: int, action: str, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/agreements/{agreement_id}/{action}",
                          json={"reason": reason}).json()

    # -- tell us once ----------------------------------------------------------------------

    def report_event(self, event: dict[str, Any], tell: list[str] | None = None
                     ) -> dict[str, Any]:
        """Report a life event (a CloudEvent 1.0) as a registrar; `tell`: whom to tell."""
        return self._call("POST", "/v1/events", json=event,
                          params={"tell": tell} if tell else None).json()

    def report_own_event(self, event: dict[str, Any], tell: list[str] | None = None
                         ) -> dict[str, Any]:
        """Report your own change of name or address, as a citizen."""
        return self._call("POST", "/v1/me/events", json=event,
                          params={"tell": tell} if tell else None).json()

    def report_status(self, report_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/reports/{report_id}").json()

    def my_reports(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/me/reports").json()

    def inbox(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/inbox", params={"limit": limit}).json()

    def acknowledge(self, delivery_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/inbox/{delivery_id}/ack").json()

    def set_notification_endpoint(self, url: str | None) -> None:
        """Take notifications at this webhook, or (None) from the inbox."""
        if url is None:
            self._call("DELETE", "/v1/notification-endpoint")
        else:
            self._call("PUT", "/v1/notification-endpoint", json={"url": url})

    # -- constraints -----------------------------------------------------------------------

    def alerts(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/alerts").json()

    def resolve_alert(self, alert_id: int, action: str, reason: str) -> dict[str, Any]:
        """`action`: resume or revoke the agreement the alert suspended."""
        return self._call("POST", f"/v1/alerts/{alert_id}/{action}",
                          json={"reason": reason}).json()

    def pull_kill_switch(self, consumer: str, reason: str) -> dict[str, Any]:
        return self._call("POST", "/v1/kill-switches",
                          json={"consumer": consumer, "reason": reason}).json()

    def restore_kill_switch(self, switch_id: int, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/kill-switches/{switch_id}/restore",
                          json={"reason": reason}).json()

    def request_bulk_extract(self, agreement_id: int, purpose: str,
                             subjects: list[tuple[str, str]],
                             recipient_jwk: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/v1/bulk-extracts", json={
            "agreement_id": agreement_id, "purpose": purpose,
            "subjects": [{"scheme": s, "value": v} for s, v in subjects],
            "recipient_jwk": recipient_jwk}).json()

    def decide_bulk_extract(self, extract_id: int, action: str, reason: str) -> dict[str, Any]:
        """`action`: approve or reject (the provider's guardian)."""
        return self._call("POST", f"/v1/bulk-extracts/{extract_id}/{action}",
                          json={"reason": reason}).json()

    def download_bulk_extract(self, extract_id: int, private_jwk: dict[str, Any]) -> Any:
        """Download the extract (once) and decrypt it with the consumer's private key."""
        token = self._call("GET", f"/v1/bulk-extracts/{extract_id}/download").text
        return json.loads(decrypt_with(private_jwk, token))

    # -- consent and accuracy --------------------------------------------------------------

    def consents(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/me/consents").json()

    def grant_consent(self, purpose: str, fields: list[str], expires_at: str,
                      consumer: str | None = None) -> dict[str, Any]:
        """Consent (a citizen); the answer's receipt is returned only if its signature
        holds against the exchange's keys."""
        body = self._call("POST", "/v1/me/consents", json={
            "purpose": purpose, "consumer": consumer, "fields": fields,
            "expires_at": expires_at}).json()
        self._check_receipt(body)
        return body

    def withdraw_consent(self, consent_id: str) -> dict[str, Any]:
        body = self._call("DELETE", f"/v1/me/consents/{consent_id}").json()
        self._check_receipt(body)
        return body

    def _check_receipt(self, body: dict[str, Any]) -> None:
        payload, _kid = verify_compact(body["receipt_jws"], self.jwks(), self.operator)
        if json.loads(payload) != body["receipt"]:
            raise SignatureInvalid("the signed receipt is not the receipt sent")

    def preview_consent(self, agreement_id: int) -> dict[str, Any]:
        return self._call("GET", "/v1/me/consents/preview",
                          params={"agreement_id": agreement_id}).json()

    def challenge(self, dataset_id: str, field: str, what_is_wrong: str,
                  proposed_value: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/v1/me/challenges", json={
            "dataset_id": dataset_id, "field": field, "what_is_wrong": what_is_wrong,
            "proposed_value": proposed_value}).json()

    def my_challenges(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/me/challenges").json()

    def challenge_queue(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/challenges").json()

    def correct_challenge(self, challenge_id: int, value: Any, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/challenges/{challenge_id}/correct",
                          json={"value": value, "reason": reason}).json()

    def reject_challenge(self, challenge_id: int, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/challenges/{challenge_id}/reject",
                          json={"reason": reason}).json()

    def correction_notices(self) -> list[dict[str, Any]]:
        return self._call("GET", "/v1/correction-notices").json()

    # -- the audit log ---------------------------------------------------------------------

    def tree_head(self, jwks: dict[str, Any] | None = None,
                  log_org: str | None = None) -> SignedTreeHead:
        """The latest tree head, returned only if the log operator's signature holds."""
        return verify_tree_head(self._call("GET", "/v1/audit/tree-head").json(),
                                self.jwks() if jwks is None else jwks, log_org or self.operator)

    def audit_entry(self, index: int) -> dict[str, Any]:
        return self._call("GET", f"/v1/audit/entries/{index}").json()

    def audit_entries(self, provider: str | None = None, before: int | None = None,
                      limit: int = 50) -> dict[str, Any]:
        params = {k: v for k, v in
                  {"provider": provider, "before": before, "limit": limit}.items() if v}
        return self._call("GET", "/v1/audit/entries", params=params).json()

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> dict[str, Any]:
        params = {"index": index, **({"tree_size": tree_size} if tree_size else {})}
        return self._call("GET", "/v1/audit/proof/inclusion", params=params).json()

    def consistency_proof(self, first: int, second: int | None = None) -> dict[str, Any]:
        params = {"first": first, **({"second": second} if second else {})}
        return self._call("GET", "/v1/audit/proof/consistency", params=params).json()

    def access_log(self, before: int | None = None, limit: int = 50) -> dict[str, Any]:
        params = {"limit": limit, **({"before": before} if before else {})}
        return self._call("GET", "/v1/me/access-log", params=params).json()

    def check_log(self, *, previous: SignedTreeHead | None = None, samples: int = 8,
                  jwks: dict[str, Any] | None = None, log_org: str | None = None,
                  rng: random.Random | None = None, witnesses: Sequence[Witness] = (),
                  cosignatures: int = 0) -> LogCheck:
        """Check the live log from outside: the tree head's signature; that it extends
        `previous` (an earlier head this checker kept); and inclusion proofs of sampled
        entries, the first and the last always among them. Where this client's token may
        read an entry, its leaf bytes are checked too. Pin `jwks` to trust nothing the
        server says about its own keys; `log_org` (default: `operator`) is the organisation
        whose key signs the log's heads; with `cosignatures`, at least that many of
        `witnesses` must have cosigned the head."""
        check = LogCheck()
        keys = self.jwks() if jwks is None else jwks
        document = self._call("GET", "/v1/audit/tree-head").json()
        try:
            head = check.head = verify_tree_head(document, keys, log_org or self.operator)
        except SignatureInvalid as exc:
            check.problems.append(f"the tree head does not verify: {exc}")
            return check
        size, root = head.head.tree_size, head.head.root_hash
        if cosignatures or witnesses:
            _check_cosignatures(check, document, witnesses, cosignatures)
        if previous is not None:
            self._check_extends(check, previous, size, root)
        if size == 0:
            if root != merkle.EMPTY_ROOT:
                check.problems.append("the empty tree's root is not the hash of nothing")
            return check
        rng = rng or random.SystemRandom()
        picks = {0, size - 1} | {rng.randrange(size) for _ in range(max(samples - 2, 0))}
        for index in sorted(picks):
            self._check_inclusion(check, index, size, root)
        return check

    def _check_extends(self, check: LogCheck, previous: SignedTreeHead, size: int,
                       root: bytes) -> None:
        first, first_root = previous.head.tree_size, previous.head.root_hash
        if first > size:
            check.problems.append(f"the log shrank: {first} entries before, {size} now")
        elif first == size:
            if first_root != root:
                check.problems.append(f"two different roots for {size} entries: a fork")
            else:
                check.consistent_from = first
        elif first == 0:
            check.consistent_from = 0
        else:
            path = [unb64(h) for h in self.consistency_proof(first, size)["consistency_path"]]
            if merkle.verify_consistency(first, size, first_root, root, path):
                check.consistent_from = first
            else:
                check.problems.append(f"the tree of {size} entries does not extend the tree "
                                      f"of {first} seen before")

    def _check_inclusion(self, check: LogCheck, index: int, size: int, root: bytes) -> None:
        proof = self.inclusion_proof(index, size)
        leaf_hash = unb64(proof["leaf_hash"])
        if not merkle.verify_inclusion(leaf_hash, index, size,
                                       [unb64(h) for h in proof["audit_path"]], root):
            check.problems.append(f"entry {index}'s inclusion proof does not verify")
            return
        check.sampled.append(index)
        if not self.headers:
            return  # no token: no entries to read (and no refusals to add to the log)
        try:
            entry = self.audit_entry(index)
        except ExchangeError as refused:
            if refused.status in (403, 404):
                return  # not ours to read: its hash is proven all the same
            if refused.code == "entry_unreadable":
                check.problems.append(f"entry {index} is unreadable on the server: "
                                      f"{refused.detail}")
                return
            raise  # a refused token, say: the caller must hear of it
        leaf = unb64(entry["leaf"])
        if merkle.leaf_hash(leaf) != leaf_hash or json.loads(leaf) != entry["entry"]:
            check.problems.append(f"entry {index} as served is not the leaf in the tree")
        else:
            check.entries_read += 1

    def close(self) -> None:
        self.http.close()


def retry_after(response: httpx.Response, default: float) -> float:
    """The seconds a response's Retry-After asks to wait (RFC 9110 §10.2.3: a number of
    seconds or an HTTP date), else `default`; never below 0."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
