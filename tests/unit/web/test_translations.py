"""Every message the portals show has its Welsh translation: each string marked in a template
(`_()`, `{% trans %}`) or in the portals' code (`_`, `N_`) is found as `pybabel extract`
finds it (babel.cfg), and must be translated, not fuzzy, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from onceonly.entrypoints.web import i18n

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "src" / "onceonly" / "entrypoints" / "web"
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n,jinja2.ext.do"}}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")


def marked_messages() -> set[str]:
    found = extract_from_dir(str(WEB), METHODS, keywords={"_": None, "gettext": None,
                                                           "ngettext": (1, 2), "N_": None},
                             options_map=OPTIONS)
    messages: set[str] = set()
    for _file, _line, message, _comments, _context in found:
        # A plural (ngettext) is one entry of the catalogue, by its singular.
        messages.add(message if isinstance(message, str) else message[0])
    return {m for m in messages if m}


def forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A message's or translation's forms: one, or one a plural form (ngettext)."""
    return (text,) if isinstance(text, str) else text


def welsh():
    with i18n.catalogue_path("cy").open("rb") as po:
        return read_po(po, locale="cy")


def test_the_pages_mark_their_messages():
    assert len(marked_messages()) > 250


def test_every_marked_message_has_a_welsh_translation():
    catalogue = welsh()
    untranslated = sorted(m for m in marked_messages()
                          if not (entry := catalogue.get(m)) or not all(forms(entry.string))
                          or entry.fuzzy)
    assert not untranslated, (
        "no Welsh for these (add them to locales/cy/LC_MESSAGES/messages.po: see "
        "docs/welsh.md):\n" + "\n".join(untranslated))


def test_each_translation_keeps_the_placeholders_of_its_message():
    catalogue = welsh()
    wrong = [m.id for m in catalogue if m.id and m.string and
             any(sorted(PLACEHOLDER.findall(form)) != sorted(PLACEHOLDER.findall(said))
                 for form in forms(m.id) for said in forms(m.string))]
    assert not wrong, wrong


def test_a_page_in_welsh_reads_welsh_and_english_is_the_source():
    assert i18n.translations("cy").gettext("Sign in") == "Mewngofnodi"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
