"""The text catalogues (one JSON file per language, Spanish default): loading, lookup and safe formatting."""

from __future__ import annotations

import ast
import html
import json
import logging
import os
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LOCALES_DIR",
    "LOOKUP_FUNCTIONS",
    "Catalogue",
    "CatalogueFileError",
    "I18nError",
    "KeyUse",
    "MissingKeyError",
    "MissingParamError",
    "Safe",
    "decimal_text",
    "escape_html",
    "language_for",
    "placeholders",
    "used_keys",
]

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "es"
LANGUAGES: tuple[str, ...] = ("es", "en")
LOCALES_DIR = Path(__file__).parent / "locales"
# Names of the lookup functions whose literal key argument `used_keys` collects.
LOOKUP_FUNCTIONS = frozenset({"t", "plain"})


class I18nError(Exception):
    """Base of every catalogue error."""


class CatalogueFileError(I18nError):
    """A locale file is missing, is not JSON, or holds something other than nested strings."""


class MissingKeyError(I18nError, KeyError):
    """A text key is not in the catalogue (strict mode only; production falls back)."""


class MissingParamError(I18nError):
    """A text needs a placeholder value the caller did not pass (strict mode only)."""


class Safe(str):
    """A value already valid in Telegram HTML (built by us, not typed by a client): `t()` inserts it as is."""

    __slots__ = ()


def escape_html(value: str) -> str:
    """Escape for Telegram HTML: `< > &` always, and `"` so a value is safe inside an attribute too."""
    return html.escape(value, quote=False).replace('"', "&quot;")


def language_for(language_code: str | None) -> str:
    """Telegram's `language_code` → catalogue language: English for "en*", Spanish for anything else."""
    if language_code and language_code.strip().lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def placeholders(template: str) -> frozenset[str]:
    """Names of the `{name}` placeholders of a template (raises ValueError on a malformed one)."""
    names = set()
    for _literal, field, _spec, _conv in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"placeholder {{{field}}} is not a plain name")
        names.add(field)
    return frozenset(names)


def _flatten(tree: Mapping[str, Any], prefix: str, out: dict[str, str], source: Path) -> None:
    for name, value in tree.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, Mapping):
            _flatten(value, key, out, source)
        else:
            raise CatalogueFileError(f"{source.name}: {key} must be a string or an object")


class _Params(dict[str, object]):
    """Escaped parameters; a missing one raises MissingParamError naming it."""

    def __missing__(self, name: str) -> object:
        raise MissingParamError(name)


def decimal_text(value: Decimal) -> str:
    """A Decimal as people write it: "1.5" and "2", never "1.5000" or "2.0000" (hours are kept to 0.0001)."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _prepare(value: object, escape: Callable[[str], str]) -> object:
    if isinstance(value, Safe):
        return str.__str__(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value  # numbers carry no markup and keep format specs such as {hours:g}
    if isinstance(value, Decimal):
        return decimal_text(value)
    return escape(str(value))


class Catalogue:
    """All texts of all languages. Strict, a missing key or param raises a named error; lenient, the
    lookup falls back to Spanish, then to the key itself, and logs: a reply is never lost to a typo.
    `strict=None` (the default) is strict while pytest runs a test and lenient in production."""

    def __init__(self, texts: Mapping[str, Mapping[str, str]], *, strict: bool | None = None) -> None:
        if DEFAULT_LANGUAGE not in texts:
            raise CatalogueFileError(f"no {DEFAULT_LANGUAGE} catalogue")
        self._texts = {lang: dict(entries) for lang, entries in texts.items()}
        self.strict = strict

    @classmethod
    def load(
        cls, directory: Path = LOCALES_DIR, languages: Iterable[str] = LANGUAGES, *, strict: bool | None = None
    ) -> Catalogue:
        """Read `<directory>/<lang>.json` for each language (nested objects become dotted keys)."""
        texts: dict[str, dict[str, str]] = {}
        for lang in languages:
            path = directory / f"{lang}.json"
            try:
                tree = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CatalogueFileError(f"{path.name}: {exc}") from exc
            if not isinstance(tree, dict):
                raise CatalogueFileError(f"{path.name}: the top level must be an object")
            flat: dict[str, str] = {}
            _flatten(tree, "", flat, path)
            texts[lang] = flat
        return cls(texts, strict=strict)

    @property
    def is_strict(self) -> bool:
        if self.strict is not None:
            return self.strict
        # pytest sets this for the duration of each test: texts missing in handlers fail their tests.
        return "PYTEST_CURRENT_TEST" in os.environ

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._texts)

    def keys(self, lang: str = DEFAULT_LANGUAGE) -> frozenset[str]:
        return frozenset(self._texts.get(lang, {}))

    def has(self, key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
        return key in self._texts.get(lang, {})

    def template(self, lang: str, key: str) -> str:
        """The raw template; raises MissingKeyError."""
        try:
            return self._texts[lang][key]
        except KeyError:
            raise MissingKeyError(f"{lang}:{key}") from None

    def t(self, lang: str, key: str, /, **params: object) -> str:
        """Text for a Telegram HTML message; every param is HTML-escaped unless it is `Safe`."""
        return self.render(lang, key, params, escape_html)

    def plain(self, lang: str, key: str, /, **params: object) -> str:
        """Text shown without parse mode (button labels, callback answers): params inserted unescaped."""
        return self.render(lang, key, params, _identity)

    def render(self, lang: str, key: str, params: Mapping[str, object], escape: Callable[[str], str]) -> str:
        """Look up and fill `key` with `escape` applied to each non-Safe param (e.g. a Slack escaper)."""
        prepared = _Params({name: _prepare(value, escape) for name, value in params.items()})
        if self.is_strict:
            return self.template(lang, key).format_map(prepared)
        attempts = [lang] if lang == DEFAULT_LANGUAGE else [lang, DEFAULT_LANGUAGE]
        for attempt in attempts:
            try:
                return self.template(attempt, key).format_map(prepared)
            except MissingKeyError:
                logger.error("text %s missing in %s", key, attempt)
            except (MissingParamError, LookupError, ValueError, TypeError, AttributeError) as exc:
                # a malformed template or a wrong param type must cost one sentence, not the reply
                logger.error("text %s in %s cannot be filled: %r", key, attempt, exc)
        return key


def _identity(value: str) -> str:
    return value


@dataclass(frozen=True, slots=True)
class KeyUse:
    """One literal key passed to a lookup function in source code."""

    key: str
    path: Path
    line: int


def used_keys(roots: Iterable[Path]) -> list[KeyUse]:
    """Literal keys in `t(lang, "key", ...)` / `.t(...)` / `.plain(...)` calls in the .py files under `roots`.

    Keys built at run time (f-strings, variables) are not seen; those must be covered by their own tests.
    """
    found: list[KeyUse] = []
    for root in roots:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (SyntaxError, UnicodeDecodeError, OSError):
                logger.warning("skipping unreadable %s", path)
                continue
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or len(node.args) < 2:
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                key_arg = node.args[1]
                if name in LOOKUP_FUNCTIONS and isinstance(key_arg, ast.Constant) and isinstance(key_arg.value, str):
                    found.append(KeyUse(key_arg.value, path, node.lineno))
    return found
