"""Validating and rendering message templates in a locked-down Jinja2 sandbox.

Templates are edited by landlord staff (later issue), so they are untrusted code. Three layers
keep them harmless and correct:

1. A static check of the parsed template: only text, ``{{ placeholder }}``, ``{% if %}`` and a
   few case filters are allowed. No attribute or item access, calls, loops, macros, includes or
   assignments, so ``{{ ''.__class__ }}`` is refused before anything runs.
2. The placeholders used must be exactly those declared for the key: a text that forgets the
   amount in a notice message is as wrong as one that invents a ``{{ personnummer }}``.
3. A trial render with sample values inside a :class:`SandboxedEnvironment` that refuses every
   attribute and call, with :class:`StrictUndefined`, catches whatever the first two missed.

Values are formatted to strings by their declared type *before* rendering, so templates never see
a Python object they could poke at, and number and date formats cannot vary between texts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.filters import FILTERS
from jinja2.sandbox import SandboxedEnvironment

from messages import catalogue, formatting
from messages.catalogue import PlaceholderType
from messages.errors import MissingTextError, PlaceholderValueError, TemplateError
from messages.segments import Encoding, analyse

# Case and whitespace only: none of them can reach an object or change a figure.
ALLOWED_FILTERS: tuple[str, ...] = ("upper", "lower", "capitalize", "trim")

# Node types a template may contain. Everything else is reported by name.
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Filter,
)

TextLookup = Callable[[str, str], str | None]
"""``(key, lang) -> text or None``: where :func:`render` finds texts (the database, or defaults)."""


class _LockedSandbox(SandboxedEnvironment):
    """A sandbox that allows no attribute access and no calls at all.

    The stock sandbox still lets ``{{ name.upper() }}`` through; message templates never need
    that, so nothing is allowed and the sandbox refuses what the static check might have missed.
    """

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        return False


def _make_environment() -> SandboxedEnvironment:
    env = _LockedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters = {name: FILTERS[name] for name in ALLOWED_FILTERS}
    env.tests = {}
    env.globals = {}
    return env


_ENV = _make_environment()


# --- validation ------------------------------------------------------------------------------


def _describe(node: nodes.Node) -> str:
    """A short, admin-readable name for a construct that is not allowed."""
    line = getattr(node, "lineno", None)
    at = f" (line {line})" if line else ""
    if isinstance(node, nodes.Getattr):
        return f"attribute access '.{node.attr}' is not allowed{at}"
    if isinstance(node, nodes.Getitem):
        return f"item access '[...]' is not allowed{at}"
    if isinstance(node, nodes.Call):
        return f"calling functions is not allowed{at}"
    if isinstance(node, nodes.Filter):
        allowed = ", ".join(ALLOWED_FILTERS)
        return f"filter '{node.name}' is not allowed (allowed: {allowed}){at}"
    if isinstance(node, nodes.Stmt):
        return f"'{type(node).__name__.lower()}' blocks are not allowed{at}"
    return f"'{type(node).__name__}' expressions are not allowed{at}"


def _forbidden_constructs(tree: nodes.Template) -> list[str]:
    problems: list[str] = []
    for node in tree.find_all(nodes.Node):
        problem = None
        if isinstance(node, nodes.Filter) and node.name in ALLOWED_FILTERS:
            if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs:
                problem = f"filter '{node.name}' takes no arguments here (line {node.lineno})"
        elif isinstance(node, nodes.Filter) or not isinstance(node, _ALLOWED_NODES):
            problem = _describe(node)
        if problem is not None and problem not in problems:
            problems.append(problem)
    return problems


def _placeholder_problems(key: str, tree: nodes.Template) -> list[str]:
    declared = set(catalogue.spec(key).placeholders)
    # Not jinja2.meta.find_undeclared_variables: it compiles the template, which aborts on the
    # first unknown filter and would hide the placeholder problems. Assignments and loops are
    # refused, so every name in the tree is a placeholder read.
    used = {node.name for node in tree.find_all(nodes.Name) if node.ctx == "load"}
    problems = [
        f"unknown placeholder '{{{{ {name} }}}}' (declared: {', '.join(sorted(declared)) or 'none'})"
        for name in sorted(used - declared)
    ]
    problems += [f"declared placeholder '{{{{ {name} }}}}' is missing" for name in sorted(declared - used)]
    return problems


def _problems(key: str, lang: str, source: str) -> list[str]:
    if not source.strip():
        return ["the text is empty"]
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return [f"syntax error on line {exc.lineno}: {exc.message}"]
    problems = _forbidden_constructs(tree) + _placeholder_problems(key, tree)
    if problems:
        return problems
    try:
        template = _ENV.from_string(source)
        template.render(_format_values(key, catalogue.sample_values(key), catalogue.locale_for(lang)))
    except SecurityError as exc:
        return [f"not allowed by the sandbox: {exc}"]
    except JinjaTemplateError as exc:
        return [f"fails to render: {exc}"]
    return []


def validate(key: str, lang: str, source: str) -> None:
    """Raise :class:`TemplateError` listing every problem of ``source`` as the text of ``key``.

    Called when a text is loaded for rendering and when staff save one. The error names the key,
    the language and each problem. An undeclared ``key`` raises ``UnknownKeyError``.
    """
    catalogue.spec(key)
    problems = _problems(key, lang, source)
    if problems:
        raise TemplateError(key, lang, problems)


@lru_cache(maxsize=1024)
def _compiled(key: str, lang: str, source: str) -> Any:
    """Validate once and compile once per distinct text; stored texts change rarely."""
    validate(key, lang, source)
    return _ENV.from_string(source)


# --- values ----------------------------------------------------------------------------------


def _format_one(ptype: PlaceholderType, value: object, locale: str) -> str:
    if ptype is PlaceholderType.MONEY:
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise ValueError("an amount owed cannot be negative")
        return formatting.format_money(value, locale)  # type: ignore[arg-type]
    if ptype is PlaceholderType.DATE:
        return formatting.format_date(value, locale)  # type: ignore[arg-type]
    if ptype in (PlaceholderType.DEADLINE, PlaceholderType.DATETIME):
        return formatting.format_moment(value, locale)  # type: ignore[arg-type]
    if ptype is PlaceholderType.SLOTS:
        return formatting.format_slots(value, locale)  # type: ignore[arg-type]
    if ptype is PlaceholderType.LINK:
        return formatting.format_link(value)  # type: ignore[arg-type]
    return formatting.format_text(value)  # type: ignore[arg-type]


def _format_values(key: str, values: Mapping[str, object], locale: str) -> dict[str, str]:
    """Check ``values`` against the key's declaration and format each one; report all problems."""
    declared = catalogue.spec(key).placeholders
    problems = [f"missing value for '{name}'" for name in declared if name not in values]
    problems += [f"unexpected value '{name}' (not declared)" for name in values if name not in declared]
    formatted: dict[str, str] = {}
    for name, ptype in declared.items():
        if name not in values:
            continue
        try:
            formatted[name] = _format_one(ptype, values[name], locale)
        except (TypeError, ValueError) as exc:
            problems.append(f"'{name}' ({ptype.value}): {exc}")
    if problems:
        raise PlaceholderValueError(key, problems)
    return formatted


# --- rendering -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A text ready to send, with what it costs as an SMS and whether it is within budget.

    ``language_used`` differs from ``language_requested`` when the fallback chain was used; the
    dispatcher records it, and staff can see which tenants got a text not in their language.
    """

    key: str
    text: str
    language_requested: str
    language_used: str
    encoding: Encoding
    segments: int
    budget: int

    @property
    def fell_back(self) -> bool:
        return self.language_used != catalogue.normalise_language(self.language_requested)

    @property
    def within_budget(self) -> bool:
        return self.segments <= self.budget


def _finish(text: str) -> str:
    return formatting.normalise_spaces(text).strip()


def render(
    key: str,
    lang: str,
    values: Mapping[str, object],
    source: str | None = None,
    lookup: TextLookup | None = None,
) -> RenderedMessage:
    """Render ``key`` for a tenant who reads ``lang``, with typed ``values``.

    With ``source`` that exact text is rendered as ``lang`` (the editor's preview, or a stored
    version the caller already chose). Otherwise the text is looked up along the fallback chain
    (tenant's language → a language serving it → Swedish → English) with ``lookup`` (default:
    the shipped texts), so a caller holding database overrides passes a lookup that tries them
    first. Values are formatted with the locale of the language actually used, so an English
    fallback shows English dates.
    """
    catalogue.spec(key)
    if source is not None:
        used, text = catalogue.normalise_language(lang), source
    else:
        find = lookup or catalogue.default_text
        chain = catalogue.fallback_chain(lang)
        found = next(((code, t) for code in chain if (t := find(key, code)) is not None), None)
        if found is None:
            raise MissingTextError(key, chain)
        used, text = found
    locale = catalogue.locale_for(used)
    formatted = _format_values(key, values, locale)
    body = _finish(_compiled(key, used, text).render(formatted))
    info = analyse(body)
    return RenderedMessage(
        key=key,
        text=body,
        language_requested=lang,
        language_used=used,
        encoding=info.encoding,
        segments=info.segments,
        budget=catalogue.spec(key).budget(info.encoding),
    )


def preview(key: str, lang: str, source: str | None = None) -> RenderedMessage:
    """Render with the catalogue's sample values: what the staff editor shows beside a text."""
    return render(key, lang, catalogue.sample_values(key), source=source)
