"""Read YAML while remembering where each value sits, and report errors at that place.

A rules file (territory, campaign) is written by hand by a politique de la ville team, so an
error must say *where*: file, line and path (``qpv[1].population``). PyYAML's composer keeps a
mark on every node; we build the Python value as usual and, beside it, a map from the path
tuple of every value to its line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]
"""A path inside the document: keys (str) and list indexes (int), as pydantic's ``loc``."""


@dataclass(frozen=True)
class LocatedError:
    """One mistake in a rules file, with its place.

    ``line`` is 1-based (None when the data did not come from a file); ``path`` looks like
    ``qpv[1].population`` (list indexes start at 0); ``code`` is stable for programs
    (``missing``, ``extra_forbidden``, ``duplicate_code``, ``yaml_syntax``…); ``message`` is
    in French for people.
    """

    file: str
    line: int | None
    path: str
    message: str
    code: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RulesFileError(Exception):
    """A rules file was refused; ``errors`` holds every mistake found, in file order."""

    def __init__(self, errors: Sequence[LocatedError]):
        self.errors: list[LocatedError] = sorted(
            errors, key=lambda e: (e.line if e.line is not None else 10**9, e.path)
        )
        super().__init__(self.report())

    def report(self) -> str:
        n = len(self.errors)
        head = f"{n} erreur{'s' if n > 1 else ''} :"
        return "\n".join([head, *(f"  {e}" for e in self.errors)])


def format_path(loc: Iterable[str | int]) -> str:
    """``('qpv', 1, 'population')`` → ``qpv[1].population``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class LocatedDocument:
    """A parsed YAML document: its Python value and the line of every path in it."""

    value: Any
    lines: dict[Loc, int]
    source: str
    problems: list[LocatedError]
    """Problems found while reading that are not syntax errors (duplicate keys)."""

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc``, or of its nearest ancestor present in the file."""
        path = tuple(p for p in loc if p != "[key]")
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def error(self, loc: Sequence[str | int], message: str, code: str) -> LocatedError:
        return LocatedError(self.source, self.line_of(loc), format_path(loc), message, code)


# --- the loader ----------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader with two kindnesses for hand-written files.

    - ``04112`` stays the string ``"04112"`` (an INSEE code), instead of YAML 1.1's octal int;
    - an impossible date (``2027-02-30``) stays a string, so the validator reports it at its
      place instead of PyYAML failing with no location.
    """


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    if isinstance(text, str) and len(text) > 1 and text.startswith("0") and text.isdigit():
        return text
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


_SYNTAX_MESSAGES = {
    "mapping values are not allowed here": "« : » inattendu (une valeur contenant « : » doit être entre guillemets ?)",
    "could not find expected ':'": "« : » attendu après le nom du champ",
    "found character '\\t' that cannot start any token": "tabulation interdite : indentez avec des espaces",
    "found undefined alias": "alias (*nom) non défini",
    "found unexpected end of stream": "guillemet jamais fermé",
    "found unexpected ':'": "« : » inattendu",
    "expected a single document in the stream": "un seul document YAML attendu (retirez les « --- » en trop)",
}


def _syntax_message(err: yaml.MarkedYAMLError) -> str:
    problem = (err.problem or "").strip()
    for english, french in _SYNTAX_MESSAGES.items():
        if problem.startswith(english):
            return f"erreur de syntaxe YAML : {french}"
    if problem.startswith("expected <block end>") or problem.startswith("expected <block mapping"):
        return "erreur de syntaxe YAML : indentation incohérente"
    if "while parsing a flow" in (err.context or ""):
        return f"erreur de syntaxe YAML : crochet ou accolade non fermé ({problem})"
    return f"erreur de syntaxe YAML : {problem or err.context or 'document illisible'}"


def load_yaml(text: str, source: str) -> LocatedDocument:
    """Parse YAML text; raise RulesFileError (with the line) on a syntax error."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
            value = loader.construct_document(node) if node is not None else None
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            if (err.context or "").startswith("while scanning a quoted scalar") and err.context_mark:
                mark = err.context_mark  # where the unclosed quote opens, not the end of the file
            line = mark.line + 1 if mark is not None else None
            raise RulesFileError(
                [LocatedError(source, line, "", _syntax_message(err), "yaml_syntax")]
            ) from None
        except yaml.YAMLError as err:  # pragma: no cover - unmarked errors are rare
            raise RulesFileError(
                [LocatedError(source, None, "", f"erreur YAML : {err}", "yaml_syntax")]
            ) from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    problems: list[LocatedError] = []
    if node is not None:
        _walk(node, (), lines, problems, source, set())
    return LocatedDocument(value, lines, source, problems)


def _walk(
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[LocatedError],
    source: str,
    stack: set[int],
) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if id(node) in stack:  # a recursive alias: nothing more to locate
        return
    stack.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key: Any = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node.value)
            key_line = key_node.start_mark.line + 1
            child = (*loc, key)
            if key in seen:
                problems.append(
                    LocatedError(
                        source,
                        key_line,
                        format_path(child),
                        f"champ présent deux fois (déjà à la ligne {seen[key]}) ; seule la dernière valeur compterait",
                        "duplicate_key",
                    )
                )
            else:
                seen[key] = key_line
            # The key's line is where people look ("population: -5"), even for a block value.
            lines[child] = key_line
            _walk(value_node, child, lines, problems, source, stack)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), lines, problems, source, stack)
    stack.discard(id(node))


def read_document(path: str | Path) -> LocatedDocument:
    """Read and parse a YAML file; an unreadable file is a RulesFileError too."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesFileError(
            [LocatedError(source, None, "", "fichier introuvable", "file_not_found")]
        ) from None
    except UnicodeDecodeError as err:
        raise RulesFileError(
            [
                LocatedError(
                    source, None, "", f"le fichier n'est pas encodé en UTF-8 ({err.reason})", "encoding"
                )
            ]
        ) from None
    except OSError as err:
        raise RulesFileError(
            [LocatedError(source, None, "", f"fichier illisible ({err.strerror})", "file_unreadable")]
        ) from None
    return load_yaml(text, source)


def from_data(data: Any, source: str) -> LocatedDocument:
    """Wrap already-parsed data (no lines known)."""
    return LocatedDocument(data, {}, source, [])


__all__ = [
    "LocatedDocument",
    "LocatedError",
    "Loc",
    "RulesFileError",
    "format_path",
    "from_data",
    "load_yaml",
    "read_document",
]
