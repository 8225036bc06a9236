"""The demo catalogue's fields in words: each field's label in English, and its label and
description in Welsh (the English description is beside the field in world.py). Keyed by
field name: a name means the same in every demo dataset that has it."""

from __future__ import annotations

from dataclasses import replace

from onceonly.domain.catalogue import FieldSpec

# name: (label, label in Welsh, description in Welsh)
FIELD_WORDS: dict[str, tuple[str, str, str]] = {
    "full_name": ("Full name", "Enw llawn", "enw"),
    "date_of_birth": ("Date of birth", "Dyddiad geni", "dyddiad geni"),
    "date_of_death": ("Date of death", "Dyddiad marw", "dyddiad marw, os yw wedi'i gofrestru"),
    "place_of_death": ("Place of death", "Man marw", "man marw, os yw wedi'i gofrestru"),
    "marital_status": ("Marital status", "Statws priodasol",
                       "sengl, yn briod, gweddw, wedi ysgaru"),
    "address": ("Address", "Cyfeiriad", "cyfeiriad post"),
    "annual_income": ("Annual income", "Incwm blynyddol", "incwm blynyddol mewn punnoedd"),
    "tax_code": ("Tax code", "Cod treth", "cod treth TWE"),
    "child_benefit_claimant": ("Claims Child Benefit", "Yn hawlio Budd-dal Plant",
                               "yn hawlio budd-dal plant"),
    "benefits_in_payment": ("Benefits in payment", "Budd-daliadau a delir",
                            "budd-daliadau a delir ar hyn o bryd"),
    "award_amount": ("Monthly award", "Dyfarniad misol", "dyfarniad misol mewn punnoedd"),
    "appointee": ("Appointee", "Penodai", "person a benodwyd i weithredu ar ran yr hawlydd"),
    "licence_status": ("Licence status", "Statws trwydded",
                       "dilys, wedi dod i ben, wedi'i dirymu, wedi'i chanslo"),
    "entitlements": ("Licence categories", "Categorïau trwydded", "categorïau trwydded"),
    "registered_vehicles": ("Registered vehicles", "Cerbydau cofrestredig",
                            "nodau cofrestru a gedwir"),
    "nationality": ("Nationality", "Cenedligrwydd", "cenedligrwydd"),
    "passport_status": ("Passport status", "Statws pasbort",
                        "dilys, wedi dod i ben, wedi'i ganslo"),
    "passport_expiry": ("Passport expiry date", "Dyddiad dod i ben y pasbort",
                        "dyddiad dod i ben"),
    "council_tax_band": ("Council Tax band", "Band Treth Gyngor", "band A i H"),
    "single_person_discount": ("Single person discount", "Gostyngiad person sengl",
                               "gostyngiad person sengl wedi'i roi"),
    "blue_badge": ("Blue Badge holder", "Deiliad Bathodyn Glas", "yn dal Bathodyn Glas"),
    "electoral_registration": ("On the electoral register", "Ar y gofrestr etholiadol",
                               "ar y gofrestr etholiadol"),
    "gp_practice": ("GP practice", "Practis meddyg teulu", "practis meddyg teulu cofrestredig"),
    "registered_address": ("Registered address", "Cyfeiriad cofrestredig",
                           "cyfeiriad cofrestredig"),
    "conditions": ("Medical conditions", "Cyflyrau meddygol",
                   "cyflyrau a gofnodwyd (categori arbennig)"),
    "pension_in_payment": ("Armed forces pension paid", "Pensiwn y lluoedd arfog yn cael ei dalu",
                           "telir pensiwn y lluoedd arfog"),
    "pension_amount": ("Monthly pension", "Pensiwn misol", "pensiwn misol mewn punnoedd"),
}

# The life-event registers' fields (their English descriptions are the event types').
EVENT_FIELD_WORDS: dict[str, tuple[str, str, str]] = {
    "place_of_death": ("Place of death", "Man marw", "man marw"),
    "child_full_name": ("Child's full name", "Enw llawn y plentyn", "enw'r plentyn"),
    "child_date_of_birth": ("Child's date of birth", "Dyddiad geni'r plentyn",
                            "dyddiad geni'r plentyn"),
    "place_of_birth": ("Place of birth", "Man geni", "man geni"),
    "child_registration_number": ("Child's registration number",
                                  "Rhif cofrestru'r plentyn", "rhif cofrestru'r plentyn"),
    "date_of_marriage": ("Date of marriage", "Dyddiad priodi",
                         "dyddiad y briodas neu'r bartneriaeth sifil"),
    "place_of_marriage": ("Place of marriage", "Man priodi", "man y seremoni"),
    "new_full_name": ("New name", "Enw newydd", "yr enw newydd"),
    "previous_full_name": ("Previous name", "Enw blaenorol", "yr enw a ddefnyddiwyd o'r blaen"),
    "effective_date": ("From", "O", "o ba ddyddiad"),
    "new_address": ("New address", "Cyfeiriad newydd", "y cyfeiriad newydd"),
}


def in_words(fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
    """Fields with their label, and their label and description in Welsh, filled in."""
    words = FIELD_WORDS | EVENT_FIELD_WORDS
    return tuple(replace(f, label=words[f.name][0], label_cy=words[f.name][1],
                         description_cy=words[f.name][2]) if f.name in words else f
                 for f in fields)
