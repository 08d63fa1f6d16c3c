"""Rendering, formatting and template validation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from jinja2.exceptions import SecurityError

from messages import catalogue, render
from messages.errors import MissingTextError, PlaceholderValueError, TemplateError, UnknownKeyError
from messages.formatting import (
    STOCKHOLM,
    format_date,
    format_moment,
    format_money,
    format_slots,
    normalise_spaces,
)

NOTICE_VALUES = {
    "landlord": "Hyresbostäder",
    "amount": 123450,
    "deadline": datetime(2025, 12, 22, 22, 59, tzinfo=UTC),
}


# --- formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "locale", "expected"),
    [
        (123450, "sv_SE", "1 234,50 kr"),
        (2345650, "sv_SE", "23 456,50 kr"),
        (5, "sv_SE", "0,05 kr"),
        (100000000, "sv_SE", "1 000 000,00 kr"),
        (123450, "en_SE", "1 234,50 kr"),
        (123450, "pl_PL", "1 234,50 SEK"),
        (123450, "fi_FI", "1 234,50 SEK"),
    ],
)
def test_money_in_ore_is_formatted_per_locale_with_plain_spaces(amount: int, locale: str, expected: str) -> None:
    assert format_money(amount, locale) == expected


def test_money_is_exact_and_typed() -> None:
    # 0.1 + 0.2 style float errors cannot happen: öre are integers turned into Decimal.
    assert format_money(1000000001, "sv_SE") == "10 000 000,01 kr"
    with pytest.raises(TypeError):
        format_money(1234.5, "sv_SE")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_money(True, "sv_SE")  # type: ignore[arg-type]


def test_no_break_spaces_from_cldr_are_normalised() -> None:
    assert normalise_spaces("1\u00a0234,50\u00a0kr") == "1 234,50 kr"
    assert normalise_spaces("2025\u202fр.") == "2025 р."
    for locale in ("sv_SE", "uk_UA", "pl_PL", "fi_FI", "ar", "fa"):
        text = format_money(123450, locale) + format_date(date(2025, 12, 22), locale)
        assert "\u00a0" not in text and "\u202f" not in text


def test_dates_and_deadlines_in_stockholm_time() -> None:
    assert format_date(date(2025, 12, 22), "sv_SE") == "22 december 2025"
    winter = datetime(2025, 12, 22, 22, 59, tzinfo=UTC)  # UTC+1
    summer = datetime(2025, 6, 30, 21, 59, tzinfo=UTC)  # UTC+2
    assert format_moment(winter, "sv_SE") == "mån 22 dec. 2025 23:59"
    assert format_moment(summer, "sv_SE") == "mån 30 juni 2025 23:59"
    # Late evening UTC is already the next day in Stockholm.
    assert format_moment(datetime(2025, 12, 21, 23, 30, tzinfo=UTC), "sv_SE").startswith("mån 22 dec.")


def test_naive_datetimes_and_datetimes_as_dates_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_moment(datetime(2025, 12, 22, 12, 0), "sv_SE")
    with pytest.raises(TypeError):
        format_date(datetime(2025, 12, 22, 12, 0, tzinfo=UTC), "sv_SE")


def test_slots_are_a_numbered_list() -> None:
    slots = [
        datetime(2025, 12, 2, 10, 0, tzinfo=STOCKHOLM),
        datetime(2025, 12, 3, 12, 30, tzinfo=UTC),
    ]
    assert format_slots(slots, "sv_SE") == "1) tis 2 dec. 10:00\n2) ons 3 dec. 13:30"
    with pytest.raises(TypeError):
        format_slots([], "sv_SE")


# --- rendering -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", sorted(catalogue.languages()))
@pytest.mark.parametrize("key", catalogue.keys())
def test_every_key_renders_in_every_language(key: str, lang: str) -> None:
    message = render.preview(key, lang)
    assert message.language_used == lang
    assert not message.fell_back
    assert message.text and message.text == message.text.strip()
    assert "{" not in message.text and "}" not in message.text
    assert "\u00a0" not in message.text and "\u202f" not in message.text


def test_notice_shows_the_exact_amount_and_deadline_in_swedish() -> None:
    message = render.render("notice_served", "sv", NOTICE_VALUES)
    assert "1 234,50 kr" in message.text
    assert "mån 22 dec. 2025 23:59" in message.text
    assert message.encoding == "GSM-7"
    assert message.segments <= 2


def test_values_are_formatted_in_the_language_actually_used() -> None:
    values = {"call_by": datetime(2025, 12, 2, 11, 0, tzinfo=UTC)}
    assert "Tue, 2 Dec 2025, 12:00" in render.render("help_acknowledged", "en", values).text
    assert "tis 2 dec. 2025 12:00" in render.render("help_acknowledged", "sv", values).text


def test_fallback_chain_for_a_language_without_texts() -> None:
    message = render.render("notice_served", "ckb", NOTICE_VALUES)
    assert message.language_used == "sv"
    assert message.language_requested == "ckb"
    assert message.fell_back
    assert "1 234,50 kr" in message.text


def test_fallback_goes_to_english_when_swedish_is_missing() -> None:
    def lookup(key: str, lang: str) -> str | None:
        return None if lang in ("ckb", "sv") else catalogue.default_text(key, lang)

    message = render.render("notice_served", "ckb", NOTICE_VALUES, lookup=lookup)
    assert message.language_used == "en"
    assert "by Mon, 22 Dec 2025, 23:59" in message.text


def test_a_stored_text_in_the_tenants_language_comes_first() -> None:
    stored = {("menu", "ckb"): "1 yarmetî · 2 civîn · 3 min da · STOP"}

    def lookup(key: str, lang: str) -> str | None:
        return stored.get((key, lang)) or catalogue.default_text(key, lang)

    message = render.render("menu", "ckb", {}, lookup=lookup)
    assert message.language_used == "ckb"
    assert message.text.startswith("1 yarmetî")


def test_language_tags_and_related_languages() -> None:
    assert render.render("menu", "sv-SE", {}).language_used == "sv"
    assert render.render("menu", "FA_af", {}).language_used == "fa"
    assert render.render("menu", "prs", {}).language_used == "fa"  # Dari readers get Persian
    assert render.render("menu", "hr", {}).language_used == "bs"
    assert catalogue.fallback_chain("prs") == ("prs", "fa", "sv", "en")


def test_missing_text_everywhere_raises() -> None:
    with pytest.raises(MissingTextError, match="menu"):
        render.render("menu", "sv", {}, lookup=lambda key, lang: None)


def test_unknown_key_raises() -> None:
    with pytest.raises(UnknownKeyError, match="no_such_key"):
        render.render("no_such_key", "sv", {})


def test_custom_source_is_validated_and_rendered() -> None:
    source = "Betala {{ amount }} senast {{ deadline }}. /{{ landlord|upper }}"
    message = render.render("notice_served", "sv", NOTICE_VALUES, source=source)
    assert message.text == "Betala 1 234,50 kr senast mån 22 dec. 2025 23:59. /HYRESBOSTÄDER"
    with pytest.raises(TemplateError, match="unknown placeholder"):
        render.render("notice_served", "sv", NOTICE_VALUES, source="{{ amount }} {{ deadline }} {{ oops }}")


def test_budget_is_reported_for_previews() -> None:
    long_text = "Betala {{ amount }} senast {{ deadline }}. {{ landlord }} " + "x" * 400
    message = render.preview("notice_served", "sv", long_text)
    assert message.budget == 2
    assert not message.within_budget
    assert render.preview("notice_served", "ar").budget == 3


def test_rendered_text_has_no_break_spaces_from_values_replaced() -> None:
    values = dict(NOTICE_VALUES, landlord="AB\u00a0Hyresbostäder")
    message = render.render("notice_served", "sv", values)
    assert "AB Hyresbostäder" in message.text
    assert message.encoding == "GSM-7"


# --- values ----------------------------------------------------------------------------------


def test_all_value_problems_are_reported_together() -> None:
    values = {"amount": 1234.5, "deadline": datetime(2025, 12, 22, 23, 59), "personnummer": "x"}
    with pytest.raises(PlaceholderValueError) as info:
        render.render("notice_served", "sv", values)
    text = str(info.value)
    assert "notice_served" in text
    assert "missing value for 'landlord'" in text
    assert "unexpected value 'personnummer'" in text
    assert "'amount' (money)" in text
    assert "'deadline' (deadline)" in text and "naive" in text
    assert len(info.value.problems) == 4


@pytest.mark.parametrize(
    ("key", "values", "fragment"),
    [
        ("notice_served", dict(NOTICE_VALUES, amount=-100), "negative"),
        ("telegram_invitation", {"landlord": "X", "link": "http://t.me/x"}, "https://"),
        ("telegram_invitation", {"landlord": " ", "link": "https://t.me/x"}, "empty"),
        ("meeting_offer", {"slots": []}, "non-empty"),
        ("meeting_offer", {"slots": "1) tis"}, "non-empty"),
    ],
)
def test_bad_values_are_refused(key: str, values: dict[str, object], fragment: str) -> None:
    with pytest.raises(PlaceholderValueError, match=fragment):
        render.render(key, "sv", values)


# --- validation ------------------------------------------------------------------------------


def _problems(key: str, lang: str, source: str) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        render.validate(key, lang, source)
    assert info.value.key == key and info.value.lang == lang
    assert key in str(info.value) and f"[{lang}]" in str(info.value)
    return info.value


def test_every_shipped_text_validates() -> None:
    keys = catalogue.keys()
    for lang in catalogue.languages():
        for key in keys:
            render.validate(key, lang, catalogue.default_text(key, lang) or "")


def test_unknown_placeholder_is_named() -> None:
    error = _problems("menu", "sv", "Hej {{ personnummer }}")
    assert error.problems == ("unknown placeholder '{{ personnummer }}' (declared: none)",)


def test_missing_declared_placeholder_is_named() -> None:
    error = _problems("notice_served", "ar", "{{ landlord }}: {{ amount }}")
    assert error.problems == ("declared placeholder '{{ deadline }}' is missing",)


def test_syntax_error_is_named_with_its_line() -> None:
    error = _problems("menu", "pl", "Hej\n{{ amount ")
    assert len(error.problems) == 1
    assert error.problems[0].startswith("syntax error on line 2")


def test_attribute_access_is_not_allowed() -> None:
    error = _problems("menu", "sv", "{{ ''.__class__ }}")
    assert "not allowed" in str(error)
    assert "'.__class__'" in str(error)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "attribute access"),
        ("{{ ''['__class__'] }}", "item access"),
        ("{{ range(10) }}", "calling functions"),
        ("{% for x in [1] %}{{ x }}{% endfor %}", "'for' blocks"),
        ("{% set x = 1 %}", "'assign' blocks"),
        ("{% include 'x' %}", "'include' blocks"),
        ("{{ 'a' * 1000000 }}", "'Mul' expressions"),
        ("{{ 'x'|attr('__class__') }}", "filter 'attr' is not allowed"),
        ("{{ 'x'|truncate(3) }}", "filter 'truncate' is not allowed"),
        ("{{ 'x'|upper(3) }}", "takes no arguments"),
    ],
)
def test_unsafe_constructs_are_refused_with_a_clear_problem(source: str, fragment: str) -> None:
    error = _problems("menu", "uk", source)
    assert any(fragment in p for p in error.problems), error.problems


def test_all_problems_are_collected_in_one_error() -> None:
    error = _problems("notice_served", "sv", "{{ amount.real }} {{ personnummer }} {{ range(3) }}")
    joined = " | ".join(error.problems)
    assert "attribute access '.real'" in joined
    assert "calling functions" in joined
    assert "unknown placeholder '{{ personnummer }}'" in joined
    assert "unknown placeholder '{{ range }}'" in joined
    assert "'{{ landlord }}' is missing" in joined
    assert "'{{ deadline }}' is missing" in joined


def test_empty_text_is_refused() -> None:
    assert _problems("menu", "sv", "  \n").problems == ("the text is empty",)


def test_if_blocks_and_case_filters_are_allowed() -> None:
    render.validate("menu", "sv", "{% if true %}Svara{% endif %} 1 HJÄLP {{ 'stop'|upper }}")
    render.validate("opted_in", "sv", "Välkommen!")


def test_the_sandbox_itself_refuses_attributes_and_calls() -> None:
    # Second line of defence behind the static check: even a template that slipped past it
    # cannot reach a Python object.
    env = render._ENV
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__ }}").render(x="a")
    with pytest.raises(SecurityError):
        env.from_string("{{ x.upper() }}").render(x="a")
