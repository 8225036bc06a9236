"""Single sign-on rules (pure): what a provider's registration must say, and who a
provider's verified claims make of the person signing in."""

from __future__ import annotations

from datetime import date

import pytest

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from onceonly.domain.single_sign_on import (
    MAPPABLE_ROLES,
    CitizenLink,
    ClientAuth,
    IdentityProvider,
    ProvenIdentity,
    StaffClaims,
    check_issuer,
    citizen_link,
    identity_from_claim,
    other_organisation,
    parse_role_mapping,
    staff_from_claims,
)

ROLES = {"guardians": Role.GUARDIAN, "officers": Role.OFFICER, "managers": Role.MANAGER,
         "admins": Role.ORG_ADMIN}


def provider(**changed) -> IdentityProvider:
    values = {"org_id": "GOV/DWP", "issuer": "https://login.dwp.example",
              "client_id": "onceonly", "client_auth": ClientAuth.PRIVATE_KEY_JWT,
              "secret": "file:/etc/onceonly/dwp.pem", "roles": ROLES} | changed
    return IdentityProvider(**values)


def refused(code: str, **changed) -> None:
    with pytest.raises(DomainError) as error:
        provider(**changed)
    assert error.value.code == code
    assert error.value.kind is ErrorKind.INVALID


def test_a_provider_registers_with_its_defaults():
    registered = provider()
    assert (registered.person_claim, registered.name_claim, registered.roles_claim,
            registered.org_claim, registered.scopes) == ("sub", "name", "groups", None,
                                                         ("openid", "profile"))


@pytest.mark.parametrize("issuer", [
    "https://login.example", "https://login.example/tenant/v2.0",
    "http://127.0.0.1:8080/dwp", "http://localhost:9000", "http://[::1]:9000/x"])
def test_issuers_are_https_or_on_this_machine(issuer):
    assert check_issuer(issuer) == issuer
    assert provider(issuer=issuer).issuer == issuer


@pytest.mark.parametrize("issuer", [
    "http://login.example", "https://login.example?tenant=1", "https://login.example#x",
    "ftp://login.example", "https://", "login.example", "http://127.0.0.2.example/"])
def test_other_issuers_are_refused(issuer):
    refused("invalid_issuer", issuer=issuer)


@pytest.mark.parametrize("client_id", ["", "   ", "x" * 201])
def test_a_client_id_is_one_to_two_hundred_characters(client_id):
    refused("invalid_client_id", client_id=client_id)


def test_a_client_id_of_two_hundred_characters_is_taken():
    assert provider(client_id="x" * 200).client_id == "x" * 200


@pytest.mark.parametrize("secret", ["env:DWP_SECRET", "env:A", "file:/run/secrets/dwp"])
def test_a_secret_is_named_by_where_it_is(secret):
    assert provider(secret=secret).secret == secret


@pytest.mark.parametrize("secret", ["the-secret-itself", "env:lower", "env:", "file:relative",
                                    "file:", "env:1X", "xenv:DWP", "env:DWP extra"])
def test_a_secret_itself_is_refused(secret):
    refused("invalid_secret_reference", secret=secret)


@pytest.mark.parametrize("claim", ["person_claim", "name_claim", "roles_claim", "org_claim"])
@pytest.mark.parametrize("name", ["", "has space", "x" * 101, "quote'"])
def test_claim_names_are_checked(claim, name):
    refused("invalid_claim_name", **{claim: name})


def test_claim_names_may_be_urls():
    named = provider(roles_claim="https://vocab.example/roles", person_claim="x" * 100)
    assert named.roles_claim == "https://vocab.example/roles"


def test_a_mapping_gives_at_least_one_role():
    refused("no_role_mapping", roles={})


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.ADMIN])
def test_a_provider_cannot_make_citizens_or_the_exchanges_administrators(role):
    refused("role_not_mappable", roles={"g": Role.GUARDIAN, "x": role})
    assert role not in MAPPABLE_ROLES


def test_the_openid_scope_is_asked_for():
    refused("openid_scope_missing", scopes=("profile",))


def test_role_mappings_are_read_as_value_equals_role():
    assert parse_role_mapping(["data-guardians=guardian", "a=b=officer"]) == {
        "data-guardians": Role.GUARDIAN, "a=b": Role.OFFICER}


@pytest.mark.parametrize("pair", ["guardian", "=guardian", "g=nobody"])
def test_role_mappings_that_do_not_read_are_refused(pair):
    with pytest.raises(DomainError) as error:
        parse_role_mapping([pair])
    assert error.value.code == "invalid_role_mapping"


def test_claims_name_the_person_and_their_role():
    assert staff_from_claims(provider(), {"sub": "p-1", "name": "Grace", "groups": [
        "canteen", "guardians"]}) == StaffClaims("p-1", "Grace", Role.GUARDIAN)


def test_a_single_role_value_may_be_a_string():
    assert staff_from_claims(provider(), {"sub": "p", "groups": "officers"}).role is \
        Role.OFFICER


@pytest.mark.parametrize(("groups", "role"), [
    (["admins", "guardians", "managers", "officers"], Role.OFFICER),
    (["admins", "guardians", "managers"], Role.MANAGER),
    (["admins", "guardians"], Role.GUARDIAN),
    (["admins"], Role.ORG_ADMIN),
])
def test_several_roles_give_the_one_with_fewest_powers(groups, role):
    assert staff_from_claims(provider(), {"sub": "p", "groups": groups}).role is role


def test_a_person_without_a_name_claim_is_named_by_their_id():
    assert staff_from_claims(provider(), {"sub": "p-1", "groups": ["officers"],
                                          "name": " "}).name == "p-1"
    assert staff_from_claims(provider(), {"sub": "p-1", "groups": ["officers"],
                                          "name": 7}).name == "p-1"


def test_the_person_claim_is_the_one_mapped():
    mapped = provider(person_claim="email", name_claim="display")
    assert staff_from_claims(mapped, {"sub": "s", "email": "g@dwp.example", "display": "G",
                                      "groups": ["officers"]}) == StaffClaims(
        "g@dwp.example", "G", Role.OFFICER)


@pytest.mark.parametrize("person", [None, "", "  ", 5])
def test_claims_naming_nobody_are_refused(person):
    claims = {"groups": ["officers"]} | ({"sub": person} if person is not None else {})
    with pytest.raises(DomainError) as error:
        staff_from_claims(provider(), claims)
    assert (error.value.code, error.value.kind) == ("no_person_claim", ErrorKind.FORBIDDEN)
    assert "'sub'" in error.value.detail


@pytest.mark.parametrize("groups", [None, [], ["canteen"], "canteen", 5, [5, None]])
def test_claims_giving_no_mapped_role_are_refused_in_words(groups):
    with pytest.raises(DomainError) as error:
        staff_from_claims(provider(), {"sub": "p", "groups": groups})
    assert (error.value.code, error.value.kind) == ("no_mapped_role", ErrorKind.FORBIDDEN)
    assert "has not given you a role" in error.value.detail


def test_roles_are_read_from_the_roles_claim_only():
    with pytest.raises(DomainError):
        staff_from_claims(provider(roles_claim="roles"), {"sub": "p", "groups": ["officers"]})


@pytest.mark.parametrize("org", ["GOV/HMRC", None, ["GOV/DWP"]])
def test_a_person_of_another_organisation_is_refused(org):
    claims = {"sub": "p", "groups": ["officers"]} | ({"org": org} if org else {})
    with pytest.raises(DomainError) as error:
        staff_from_claims(provider(org_claim="org"), claims)
    assert error.value.code == "other_organisation"
    assert error.value.detail == other_organisation("GOV/DWP").detail
    assert "another organisation than GOV/DWP" in error.value.detail


def test_a_person_of_the_organisation_is_taken_when_it_is_claimed():
    assert staff_from_claims(provider(org_claim="org"), {
        "sub": "p", "groups": ["officers"], "org": "GOV/DWP"}).role is Role.OFFICER


def identity(given="Jane Ann", family="Doe", born="1980-02-29") -> dict:
    return {"vc": {"credentialSubject": {
        "name": [{"nameParts": [{"type": "GivenName", "value": part}
                                for part in given.split()] +
                               [{"type": "FamilyName", "value": family}]},
                 {"nameParts": [{"type": "GivenName", "value": "Former"}]}],
        "birthDate": [{"value": born}, {"value": "1900-01-01"}]}}}


def test_the_identity_claim_proves_the_current_name_and_date_of_birth():
    assert identity_from_claim(identity()) == ProvenIdentity("Jane Ann Doe", date(1980, 2, 29))


def test_name_parts_of_other_kinds_are_not_the_name():
    claim = identity()
    claim["vc"]["credentialSubject"]["name"][0]["nameParts"].append(
        {"type": "Title", "value": "Dr"})
    assert identity_from_claim(claim).full_name == "Jane Ann Doe"


def test_a_family_name_alone_is_a_name():
    claim = identity()
    claim["vc"]["credentialSubject"]["name"][0]["nameParts"] = [
        {"type": "FamilyName", "value": " Doe "}]
    assert identity_from_claim(claim).full_name == "Doe"


@pytest.mark.parametrize("broken", [
    {}, {"vc": {}}, {"vc": {"credentialSubject": {"name": [], "birthDate": []}}},
    identity(born="29/02/1980"), identity(born="1981-02-29"),
    {"vc": {"credentialSubject": {"name": [{"nameParts": "Jane"}],
                                  "birthDate": [{"value": "1980-01-01"}]}}},
    {"vc": {"credentialSubject": {"name": [{"nameParts": [{"type": "GivenName"}]}],
                                  "birthDate": [{"value": "1980-01-01"}]}}},
])
def test_an_identity_claim_that_does_not_read_is_refused(broken):
    with pytest.raises(DomainError) as error:
        identity_from_claim(broken)
    assert (error.value.code, error.value.kind) == ("identity_unreadable", ErrorKind.FORBIDDEN)
    assert "Nobody was signed in" in error.value.detail


def test_an_identity_claim_without_a_name_is_refused():
    claim = identity()
    claim["vc"]["credentialSubject"]["name"][0]["nameParts"] = [
        {"type": "GivenName", "value": "  "}]
    with pytest.raises(DomainError) as error:
        identity_from_claim(claim)
    assert error.value.code == "identity_unreadable"
    assert "has no name in it" in error.value.detail


SURE = {"full_name": "exact", "date_of_birth": "exact", "postcode": "missing"}


def test_no_candidate_is_nobody_known():
    assert citizen_link([]) == (CitizenLink.UNKNOWN, None)


@pytest.mark.parametrize("levels", [SURE, SURE | {"full_name": "agree"},
                                    SURE | {"date_of_birth": "agree"}])
def test_one_candidate_agreeing_on_name_and_birth_is_linked_at_once(levels):
    assert citizen_link([("p1", levels)]) == (CitizenLink.LINKED, "p1")


@pytest.mark.parametrize("levels", [
    SURE | {"full_name": "similar"}, SURE | {"date_of_birth": "one_digit"},
    {"full_name": "exact"}, {"date_of_birth": "exact"}, {}])
def test_a_candidate_not_agreeing_on_both_is_queued(levels):
    assert citizen_link([("p1", levels)]) == (CitizenLink.QUEUED, "p1")


def test_two_candidates_are_queued_with_the_best():
    assert citizen_link([("p1", SURE), ("p2", SURE)]) == (CitizenLink.QUEUED, "p1")


def test_family_names_of_several_parts_are_kept_whole():
    claim = identity()
    claim["vc"]["credentialSubject"]["name"][0]["nameParts"] = [
        {"type": "GivenName", "value": "Ana"}, {"type": "FamilyName", "value": "García"},
        {"type": "FamilyName", "value": "López"}]
    assert identity_from_claim(claim).full_name == "Ana García López"


def detail_of(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.detail


# What each refusal says, word for word: these are the words people read.
@pytest.mark.parametrize(("call", "detail"), [
    (lambda: provider(client_id=""), "a client id is 1 to 200 characters"),
    (lambda: provider(secret="x"), "say where the secret is read from: env:NAME (an "
     "environment variable) or file:/path (a file); never the secret itself"),
    (lambda: provider(name_claim="a b"), "'a b' is not a claim name"),
    (lambda: provider(roles={}), "map at least one value of the roles claim to a role"),
    (lambda: provider(roles={"x": Role.ADMIN}), "'x' maps to admin; a provider gives "
     "guardian, manager, officer, org_admin"),
    (lambda: provider(scopes=("profile",)), "the scopes must include openid"),
    (lambda: check_issuer("http://x.example"), "'http://x.example' is not an issuer: an "
     "https URL without query or fragment"),
    (lambda: parse_role_mapping(["g"]), "'g' is not VALUE=ROLE"),
    (lambda: parse_role_mapping(["g=king"]), "'king' is not a role"),
    (lambda: staff_from_claims(provider(), {"sub": "p"}), "You signed in, but your "
     "organisation has not given you a role in this exchange. Ask your organisation's "
     "administrator to add you to one of its groups for this service."),
    (lambda: staff_from_claims(provider(), {"groups": ["officers"]}), "Your organisation's "
     "sign-in service did not say who you are (no 'sub' claim). Ask its administrator."),
    (lambda: staff_from_claims(provider(org_claim="org"), {"sub": "p"}), "You signed in as "
     "someone of another organisation than GOV/DWP. Choose your own organisation on the "
     "sign-in page."),
    (lambda: identity_from_claim({}), "GOV.UK One Login's proof of your identity could not "
     "be read, so your record could not be found. Nobody was signed in."),
    (lambda: identity_from_claim(identity(given=" ", family=" ")), "GOV.UK One Login's "
     "proof of your identity has no name in it, so your record could not be found. Nobody "
     "was signed in."),
])
def test_refusals_say_why_in_words(call, detail):
    assert detail_of(call) == detail
