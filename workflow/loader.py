"""Loading definition files: YAML -> :class:`Definition`, with every problem located.

A definition that is wrong is refused as a whole, with *every* problem listed by file,
line and field, so a programme officer can fix a file in one pass. PyYAML's node tree
gives the line of every value; pydantic's error locations and the cross-reference checks
of :mod:`workflow.validation` are mapped back onto it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workflow.definition import Definition
from workflow.errors import DefinitionError, Problem
from workflow.validation import check_definition

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "DefinitionRegistry",
    "load_definition",
    "load_directory",
    "parse_definition",
]

Loc = tuple[str | int, ...]


MAX_FILE_BYTES = 1_000_000
"""A definition file is a few dozen kilobytes; anything past a megabyte is refused unread."""
MAX_DEPTH = 20
"""The deepest a definition nests is about six levels; deeper is refused before it is built."""

_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)


class _Refused(yaml.YAMLError):
    """A construct a definition has no use for, refused where it is written."""

    def __init__(self, mark: Any, problem: str) -> None:
        super().__init__(problem)
        self.line = mark.line + 1 if mark is not None else 1
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. In YAML 1.1 a bare ``on`` (our notification rules'
    key) or ``no`` would silently become a boolean.

    Aliases and anchors are refused (a few hundred bytes of them expand to gigabytes), and
    so is nesting deeper than :data:`MAX_DEPTH` (the composer recurses once per level)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                event.start_mark,
                f"aliases (*{event.anchor}) are not allowed in a definition: write the value out",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(
                event.start_mark,
                f"anchors (&{anchor}) are not allowed in a definition: write the value out",
            )
        if self._depth >= MAX_DEPTH:
            raise _Refused(
                event.start_mark, f"nested deeper than {MAX_DEPTH} levels: a definition is flatter"
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class _Positions:
    """Line (1-based) of every mapping key and sequence item, by path."""

    lines: dict[Loc, int]

    def line_of(self, loc: Sequence[str | int]) -> int:
        path: Loc = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def _walk(
    node: yaml.Node, path: Loc, lines: dict[Loc, int], problems: list[Problem], file: str
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if node.tag not in _PLAIN_TAGS:
        raise _Refused(
            node.start_mark,
            f"the tag {node.tag!r} is not allowed in a definition: write plain values",
        )
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(
                    key_node.start_mark,
                    "a key is a plain word, not a list or a mapping ('? [a, b]' is not allowed)",
                )
            key = key_node.value
            if key in seen:
                problems.append(
                    Problem(
                        file,
                        line,
                        ".".join(map(str, (*path, key))) or key,
                        f"duplicate key {key!r} (first given on line {seen[key]})",
                    )
                )
                continue
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, problems, file)


def _field(loc: Iterable[str | int], data: Any) -> str:
    """A readable field path: ``transitions[2].dest`` or ``milestones[fiche_cadrage].phase``."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            item = (
                node[part]
                if isinstance(node, list) and part < len(node) and isinstance(node[part], dict)
                else {}
            )
            out += f"[{item.get('key') or item.get('trigger') or item.get('action') or part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(file)"


def _too_big(file: str, size: int) -> Problem:
    return Problem(
        file,
        1,
        "(file)",
        f"the file is {size:,} bytes; a definition is at most {MAX_FILE_BYTES:,} bytes "
        "(split the programme or remove what it does not use)",
    )


def _path_at(positions: _Positions, line: int) -> Loc:
    """The deepest field known to start on ``line`` (for a refusal found while reading)."""
    best: Loc = ()
    for path, at in positions.lines.items():
        if at == line and len(path) > len(best):
            best = path
    return best


def _line(positions: _Positions, loc: Loc, kind: str) -> int:
    """The line of a problem; a missing English field (``label_en``, ``title_en``) is placed
    on the French one it translates, where the writer adds it."""
    if kind == "missing" and loc and isinstance(loc[-1], str) and loc[-1].endswith("_en"):
        french = (*loc[:-1], loc[-1].removesuffix("_en"))
        if french in positions.lines:
            return positions.lines[french]
    return positions.line_of(loc)


def parse_definition(
    text: str, file: str = "<string>", templates: Collection[str] | None = None
) -> Definition:
    """Parse and check one definition; raise :class:`DefinitionError` listing every problem.

    The same text (from the same file, against the same templates) is parsed once a process:
    the YAML composer that keeps line numbers is pure Python (~0.15 s a shipped file), and the
    service, each command and each test build the registry again. A :class:`Definition` is
    frozen, so one can be shared; a refused text is not remembered and is refused again."""
    return _parse_definition(text, file, None if templates is None else frozenset(templates))


@lru_cache(maxsize=64)
def _parse_definition(text: str, file: str, templates: frozenset[str] | None) -> Definition:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise DefinitionError(file, [_too_big(file, size)])
    problems: list[Problem] = []
    positions = _Positions({})
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None or not isinstance(root, yaml.MappingNode):
            raise DefinitionError(
                file,
                [
                    Problem(
                        file,
                        1,
                        "(file)",
                        "a definition is a YAML mapping with id, version, phases...",
                    )
                ],
            )
        _walk(root, (), positions.lines, problems, file)
        # Built from the same node tree: the text is parsed once.
        data = loader.construct_document(root)
    except DefinitionError:
        raise
    except _Refused as exc:
        line = exc.line
        raise DefinitionError(
            file, [Problem(file, line, _field(_path_at(positions, line), None), exc.problem)]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError(
            file, [Problem(file, line, "(syntax)", f"YAML syntax error: {reason}")]
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of thousands of digits
        raise DefinitionError(
            file, [Problem(file, 1, "(file)", f"a value cannot be read: {exc}")]
        ) from None
    finally:
        loader.dispose()
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(
                p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))
            )
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = f"unknown field {loc[-1]!r} (check its spelling)"
            problems.append(
                Problem(file, _line(positions, loc, err["type"]), _field(loc, data), message)
            )
        raise DefinitionError(file, problems) from None
    for loc, message in check_definition(definition, templates):
        problems.append(Problem(file, positions.line_of(loc), _field(loc, data), message))
    if problems:
        raise DefinitionError(file, problems)
    return definition


def load_definition(path: Path | str, templates: Collection[str] | None = None) -> Definition:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DefinitionError(str(path), [_too_big(str(path), size)])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(
            str(path), [Problem(str(path), 1, "(file)", f"cannot read the file: {exc}")]
        ) from None
    return parse_definition(text, str(path), templates)


def load_directory(
    folder: Path | str, templates: Collection[str] | None = None
) -> DefinitionRegistry:
    """Load every ``*.yaml`` in ``folder``; all files are checked before any error is raised."""
    registry = DefinitionRegistry()
    problems: list[Problem] = []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            registry.add(load_definition(path, templates), path)
        except DefinitionError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DefinitionError(str(folder), problems)
    return registry


class DefinitionRegistry:
    """Every known definition, by id and version."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, int], Definition] = {}
        self._paths: dict[tuple[str, int], Path | None] = {}
        self._english: dict[str, str] | None = None

    def add(self, definition: Definition, path: Path | None = None) -> None:
        key = (definition.id, definition.version)
        if key in self._by_key:
            other = self._paths[key]
            raise DefinitionError(
                str(path),
                [
                    Problem(
                        str(path),
                        1,
                        "id",
                        f"definition {definition.id!r} version {definition.version} "
                        f"is already defined in {other}",
                    )
                ],
            )
        self._by_key[key] = definition
        self._paths[key] = path
        self._english = None

    def english_labels(self) -> dict[str, str]:
        """The French labels of every loaded definition and their English ones (the newest
        version's wording first), for pages that show a definition's French values."""
        if self._english is None:
            table: dict[str, str] = {}
            for key in sorted(self._by_key, key=lambda k: (k[0], -k[1])):
                for french, english in self._by_key[key].english_labels().items():
                    table.setdefault(french, english)
            self._english = table
        return self._english

    def get(self, definition_id: str, version: int | None = None) -> Definition:
        if version is None:
            versions = [v for (i, v) in self._by_key if i == definition_id]
            if not versions:
                raise KeyError(definition_id)
            version = max(versions)
        return self._by_key[(definition_id, version)]

    def latest(self) -> list[Definition]:
        ids = sorted({i for i, _ in self._by_key})
        return [self.get(i) for i in ids]

    def __iter__(self) -> Any:
        return iter(self._by_key.values())

    def __contains__(self, item: object) -> bool:
        return item in self._by_key
