"""Griffe extension for the API reference: reads the source as it is written.

* ``#:`` comments above an attribute (the attrs fields of ``runtimes.models``)
  become its docstring, as Sphinx autodoc would read them.
* reST roles in docstrings (``:class:`~runtimes.LogLine```) become optional
  cross-references: a link where the target is on the site, plain code
  otherwise, so ``mkdocs build --strict`` never fails on a role.
"""

from __future__ import annotations

import ast
import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`(?P<tilde>~?)(?P<target>[^`]+)`")


class RuntimesDocs(griffe.Extension):
    def on_attribute_instance(
        self, *, node: ast.AST | griffe.ObjectNode, attr: griffe.Attribute, **kwargs: Any
    ) -> None:
        if attr.docstring is not None or attr.lineno is None:
            return
        try:
            lines = attr.lines_collection[attr.filepath]  # type: ignore[index]
        except KeyError:
            return
        comment: list[str] = []
        index = attr.lineno - 2
        while index >= 0 and lines[index].strip().startswith("#:"):
            comment.insert(0, lines[index].strip()[2:].strip())
            index -= 1
        if comment:
            attr.docstring = griffe.Docstring(
                "\n".join(comment), lineno=index + 2, endlineno=attr.lineno - 1, parent=attr
            )

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        seen: set[int] = set()

        def visit(obj: griffe.Object | griffe.Alias) -> None:
            if id(obj) in seen or obj.is_alias:
                return
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = ROLE.sub(lambda m: _link(m, obj, loader), obj.docstring.value)
            for member in obj.members.values():
                visit(member)

        visit(pkg)

    # griffe before 1.14 names the event this way; the rewrite is idempotent.
    on_package_loaded = on_package


def _lookup(path: str, loader: griffe.GriffeLoader) -> str | None:
    try:
        found = loader.modules_collection[path]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    return found.target_path if found.is_alias else found.path


def _link(match: re.Match[str], obj: griffe.Object, loader: griffe.GriffeLoader) -> str:
    target = match["target"].removesuffix("()")
    shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
    # Relative names as Sphinx resolves them: the object's class, then its module.
    scopes = [obj.path, obj.parent.path if obj.parent else "", obj.module.path, ""]
    resolved = next(
        (p for s in scopes if (p := _lookup(f"{s}.{target}" if s else target, loader))), target
    )
    return (
        f'<autoref identifier="{html.escape(resolved)}" optional>'
        f"<code>{html.escape(shown)}</code></autoref>"
    )
