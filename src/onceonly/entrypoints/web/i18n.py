"""The portals' two languages, English and Welsh: which one a request is answered in, its
gettext catalogue (Babel; the Welsh .po is compiled when first used, so no build step), and
dates and numbers written for it in UK time."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import negotiate_locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.responses import Response

from onceonly.domain.languages import DEFAULT, LANGUAGES

LANGUAGE_COOKIE = "onceonly_language"
LOCALES = Path(__file__).parent / "locales"
ONE_YEAR = 365 * 24 * 3600
UK_TIME = ZoneInfo("Europe/London")
# Language names as each language writes itself (the toggle offers the other one).
NAMES = {"en": "English", "cy": "Cymraeg"}


def catalogue_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: str) -> NullTranslations:
    """The language's messages: English is the source text itself."""
    if language == DEFAULT:
        return NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def chosen_language(request: Request) -> str | None:
    """The language the person chose with the toggle (its cookie), if they chose one."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else None


def language_of(request: Request) -> str:
    """The language the person chose (the toggle's cookie; a signed-in citizen's kept
    language is set there at sign-in), else the first of ours their browser asks for
    (Accept-Language), else English."""
    return chosen_language(request) or browser_language(
        request.headers.get("accept-language", ""))


def remember_language(request: Request, response: Response, language: str) -> None:
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=ONE_YEAR, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")


def browser_language(accept_language: str) -> str:
    asked = []
    for part in accept_language.split(","):
        tag, _, weight = part.strip().partition(";q=")
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            continue
        if tag and quality > 0:
            asked.append((quality, tag.strip().replace("-", "_")))
    ordered = [tag for _quality, tag in sorted(asked, key=lambda q: -q[0])]
    return negotiate_locale(ordered, list(LANGUAGES)) or DEFAULT


def when(moment: datetime, language: str) -> str:
    """A moment as people write it, in UK time: "5 December 2026, 7:28am"."""
    text = format_datetime(moment.astimezone(UK_TIME), "d MMMM y, h:mma", tzinfo=UK_TIME,
                           locale=language)
    return text.replace("AM", "am").replace("PM", "pm")


def day(moment: datetime | date, language: str) -> str:
    """A date alone: "5 December 2026" (a moment's date in UK time)."""
    if not isinstance(moment, datetime):
        return format_date(moment, "d MMMM y", locale=language)
    return format_datetime(moment.astimezone(UK_TIME), "d MMMM y", tzinfo=UK_TIME,
                           locale=language)


def written_date(text: str, language: str) -> str:
    """An ISO date ("2026-11-01") as people write it ("1 November 2026"); else as given."""
    try:
        return format_date(date.fromisoformat(text), "d MMMM y", locale=language)
    except ValueError:
        return text


def number(value: float, language: str) -> str:
    return format_decimal(value, locale=language)


def N_(text: str) -> str:  # noqa: N802 (gettext's name for "mark for the catalogue")
    """Marks `text` for the catalogue where it is defined; pages translate it where they
    show it (`_(entry.label)`)."""
    return text
