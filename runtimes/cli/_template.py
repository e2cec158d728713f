"""``--format '{{.Field}}'``: the part of Go's text/template that Docker users type.

Why not a templating library: Jinja2 and its kin have another syntax
(``{{ x.y }}``, filters after ``|``), so ``{{.Name}}`` would not parse, and
a Go-template port for Python is not a well-kept package.  The subset Docker
users write in ``--format`` is small and parsed here, without ``eval``:

- ``{{.Field}}``, ``{{.A.B}}`` and ``{{.}}``: fields, matched exactly, then
  ignoring case and underscores (``{{.ExitCode}}`` is ``exit_code``,
  ``{{.ID}}`` is ``id``), then through Docker's names (``{{.Names}}``);
  a field the normalised record lacks is looked up in the runtime's own
  record (``{{.State.Status}}``, ``{{.Config.Env}}`` on ``inspect``);
- functions ``json``, ``index``, ``join``, ``upper``, ``lower``, ``title``,
  ``len``, ``println`` and Docker's ``{{.Label "key"}}``;
- pipelines, ``{{.Name | upper}}``, the previous value passed last;
- ``table`` at the start prints a header line, as ``docker ps`` does;
  ``\\t`` and ``\\n`` in the text are a tab and a newline;
- ``{{-`` and ``-}}`` trim the whitespace around an action.

``range``, ``if`` and variables are not supported: they raise
:class:`~runtimes.errors.InvalidSpec`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runtimes.errors import InvalidSpec

__all__ = ["Template", "is_template"]

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
      | (?P<field>\.[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
      | (?P<pipe>\|)
      | (?P<number>-?\d+)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.X,
)
_MISSING = object()

# Docker's column names for the same facts, where ignoring case and
# underscores is not enough.
_ALIASES = {"names": "name", "runningfor": "running_for", "createdat": "created_at"}


def is_template(fmt: str) -> bool:
    """Whether ``--format`` is a template rather than ``table`` or ``json``."""
    return "{{" in fmt


def _key(name: str) -> str:
    return name.replace("_", "").lower()


def _field(value: Any, name: str, fallback: Mapping[str, Any] | None) -> Any:
    if isinstance(value, Mapping):
        if name in value:
            return value[name]
        wanted = _ALIASES.get(_key(name), name)
        for key, item in value.items():
            if isinstance(key, str) and (_key(key) == _key(wanted)):
                return item
    if fallback is not None:
        return _field(fallback, name, None)
    return _MISSING


class _GoMap(dict[str, Any]):
    """A mapping read from the runtime's own record: printed as Go prints
    a map (``map[a:1 b:2]``), as ``docker inspect -f '{{.Config.Labels}}'`` does."""


def text(value: Any, *, go_maps: bool = False) -> str:
    """How Go prints a value: lists as ``[a b]``, nothing as ``<no value>``,
    maps as ``map[k:v k2:v2]``; but in listings (``go_maps`` false) the
    library's labels read ``k=v,k2=v2``, as docker's ``ls`` columns print them."""
    if value is None or value is _MISSING:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _GoMap) or (go_maps and isinstance(value, Mapping)):
        return "map[" + " ".join(f"{k}:{text(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, Mapping):
        return ",".join(f"{k}={text(v)}" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(text(v) for v in value) + "]"
    return str(value)


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, (list, tuple)) and isinstance(key, int):
            value = value[key] if -len(value) <= key < len(value) else None
        else:
            raise InvalidSpec(f"template: cannot index {text(value)!r} with {key!r}")
    return value


def _join(*args: Any) -> str:
    if len(args) != 2:
        raise InvalidSpec("template: join takes a list and a separator")
    items, separator = args
    if isinstance(items, str):  # {{.X | join ","}}: the value arrives last
        items, separator = separator, items
    return str(separator).join(text(v) for v in items or ())


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": lambda v: json.dumps(v, sort_keys=True, separators=(",", ":")),  # as Go marshals
    "index": _index,
    "join": _join,
    "upper": lambda v: text(v).upper(),
    "lower": lambda v: text(v).lower(),
    "title": lambda v: text(v).title(),
    "len": lambda v: len(v) if v is not None else 0,
    "println": lambda *v: " ".join(text(x) for x in v) + "\n",
}


class Template:
    """A parsed ``--format`` template; :meth:`render` fills it for one record."""

    def __init__(self, source: str) -> None:
        source = source.replace("\\t", "\t").replace("\\n", "\n")
        self.table = source.startswith("table ") or source == "table"
        if self.table:
            source = source.removeprefix("table").lstrip(" ")
        self.source = source
        self._parts: list[str | list[list[tuple[str, str]]]] = []
        pos = 0
        trim_next = False
        for match in _ACTION.finditer(source):
            literal = source[pos : match.start()]
            if trim_next:
                literal = literal.lstrip()
            if match.group(1):
                literal = literal.rstrip()
            self._parts.append(literal)
            self._parts.append(self._parse(match.group(2)))
            trim_next = bool(match.group(3))
            pos = match.end()
        rest = source[pos:].lstrip() if trim_next else source[pos:]
        if "{{" in rest or "}}" in rest:
            raise InvalidSpec(f"template: unclosed action in {source!r}")
        self._parts.append(rest)

    @staticmethod
    def _parse(action: str) -> list[list[tuple[str, str]]]:
        commands: list[list[tuple[str, str]]] = [[]]
        pos = 0
        action = action.strip()
        while pos < len(action):
            match = _TOKEN.match(action, pos)
            if not match or match.end() == pos:
                raise InvalidSpec(f"template: cannot parse {action[pos:]!r} in {{{{{action}}}}}")
            kind = match.lastgroup or ""
            value = match.group(kind)
            if kind == "pipe":
                commands.append([])
            else:
                if kind == "name" and not commands[-1] and value not in _FUNCTIONS:
                    raise InvalidSpec(
                        f"template: {value!r} is not supported (fields, pipelines and "
                        f"{', '.join(sorted(_FUNCTIONS))} are)"
                    )
                commands[-1].append((kind, value))
            pos = match.end()
        if any(not command for command in commands):
            raise InvalidSpec(f"template: empty command in {{{{{action}}}}}")
        return commands

    def header(self) -> str:
        """The header line of a ``table`` template: each field's name, in capitals."""

        def name(part: list[list[tuple[str, str]]]) -> str:
            fields = [v for command in part for k, v in command if k == "field"]
            last = fields[-1] if fields else ""
            return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", last.rsplit(".", 1)[-1]).upper()

        return "".join(p if isinstance(p, str) else name(p) for p in self._parts)

    def render(
        self, record: Any, raw: Mapping[str, Any] | None = None, *, go_maps: bool = False
    ) -> str:
        """The template filled with ``record`` (plain JSON data); a field
        missing from it is looked up in ``raw``.  ``go_maps``: print maps as
        ``docker inspect`` does (``map[k:v]``) rather than as ``docker ps``
        does (``k=v``)."""
        out = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
            else:
                out.append(text(self._pipeline(part, record, raw), go_maps=go_maps))
        return "".join(out)

    def _pipeline(
        self, commands: Sequence[Sequence[tuple[str, str]]], record: Any, raw: Any
    ) -> Any:
        value: Any = _MISSING
        for command in commands:
            args = [self._argument(kind, token, record, raw) for kind, token in command]
            if value is not _MISSING:
                args.append(value)
            head_kind, head = command[0]
            if head_kind == "name":
                try:
                    value = _FUNCTIONS[head](*args[1:])
                except TypeError as exc:
                    raise InvalidSpec(f"template: {head}: {exc}") from None
            elif head_kind == "field" and head.rsplit(".", 1)[-1].lower() == "label":
                # Docker's {{.Label "key"}}: one label's value.
                labels = self._argument("field", ".labels", record, raw)
                value = _index(labels, *args[1:])
            elif len(args) > 1:
                raise InvalidSpec(f"template: {head} is not a function")
            else:
                value = args[0]
        return value

    @staticmethod
    def _argument(kind: str, token: str, record: Any, raw: Any) -> Any:
        if kind == "string":
            if token.startswith("`"):
                return token[1:-1]
            return json.loads(token)
        if kind == "number":
            return int(token)
        if kind == "name":
            return token
        value = record
        fallback = raw
        from_raw = False
        for name in token.split(".")[1:]:
            if not name:
                continue
            found = _field(value, name, None)
            if found is _MISSING and fallback is not None:
                found = _field(fallback, name, None)
                value, fallback = found, None
                from_raw = True
            else:
                fallback = _field(fallback, name, None) if isinstance(fallback, Mapping) else None
                fallback = fallback if isinstance(fallback, Mapping) else None
                value = found
            if value is _MISSING:
                if name.lower() == "label":
                    return None
                raise InvalidSpec(f"template: no field {name!r} in {token!r}")
        if from_raw and isinstance(value, Mapping):
            return _GoMap(value)
        return value
