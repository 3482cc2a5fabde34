"""The module map at the top of docs/design.md is true, and the imports obey it.

The map lists every module of `bot`, highest layer first. A module may import
only modules listed below it; a package (a folder under bot/) only packages
listed below it. Imports are read with `ast`, all of them: at the top of a
module, inside functions (the CLI imports lazily) and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
DESIGN = ROOT / "docs" / "design.md"
_TREE_LINE = re.compile(r"^(?P<indent>(?:[│ ] {3}|[├└]── )*)(?P<name>[\w.]+/?)(?:\s|$)")


def map_order() -> list[str]:
    """The modules of the map in its order (highest first), as dotted names."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1]
    block = section.split("```", 2)[1]
    names: list[str] = []
    parents: list[str] = []
    for line in block.splitlines()[1:]:
        match = _TREE_LINE.match(line)
        if not line.strip():
            continue
        assert match, f"docs/design.md map: cannot read {line!r}"
        depth = len(match["indent"]) // 4
        if depth == 0:  # the root line, `bot/`
            parents = ["bot"]
            continue
        del parents[depth:]
        name = match["name"]
        if name.endswith("/"):
            parents.append(name.rstrip("/"))
            names.append(".".join(parents))
        elif name == "__init__.py":
            names.append(".".join(parents))
        else:
            names.append(".".join([*parents, name.removesuffix(".py")]))
    return names


def modules() -> dict[str, Path]:
    """Every module of bot/ by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(BOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """The bot modules `name` imports, each as the most specific module named."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "bot" and target != name:
                assert target in known, f"{path}:{node.lineno} imports unknown {target}"
                yield Import(name, target, node.lineno)


def unit(name: str) -> str:
    """The package (or top-level module) `name` belongs to: bot.daemon.events -> bot.daemon."""
    return ".".join(name.split(".")[:2])


def all_imports() -> list[Import]:
    known = modules()
    return [i for name, path in known.items() for i in imports(name, path, known)]


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph `edges`, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_map_lists_every_module_once_and_nothing_else() -> None:
    order = map_order()
    assert len(order) == len(set(order)), "a module is listed twice"
    assert sorted(order) == sorted(modules())


def test_no_module_imports_one_listed_above_it() -> None:
    rank = {name: n for n, name in enumerate(map_order())}
    upward = [
        f"{i.source} (line {i.line}) imports {i.target}, which is listed above it"
        for i in all_imports()
        if rank[i.target] <= rank[i.source]
    ]
    assert upward == []


def test_no_module_imports_in_a_circle() -> None:
    edges: dict[str, set[str]] = {}
    for i in all_imports():
        edges.setdefault(i.source, set()).add(i.target)
    assert cycle(edges) is None


def test_no_package_imports_in_a_circle_or_upwards() -> None:
    order = list(dict.fromkeys(unit(name) for name in map_order()))
    rank = {name: n for n, name in enumerate(order)}
    edges: dict[str, set[str]] = {}
    upward = []
    for i in all_imports():
        source, target = unit(i.source), unit(i.target)
        if source == target:
            continue
        edges.setdefault(source, set()).add(target)
        if rank[target] <= rank[source]:
            upward.append(f"{source} imports {target} ({i.source}, line {i.line})")
    assert upward == []
    assert cycle(edges) is None


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}}, None),
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
    ],
)
def test_the_cycle_finder_finds_cycles(
    edges: dict[str, set[str]], expected: list[str] | None
) -> None:
    assert cycle(edges) == expected


def test_the_checks_see_lazy_and_type_checking_imports() -> None:
    found = {(i.source, i.target) for i in all_imports()}
    assert ("bot.cli", "bot.wiring") in found  # inside a command function
    assert ("bot.exactly_once", "bot.client") in found  # under TYPE_CHECKING
    assert ("bot.client.identity", "bot") in found  # from bot import __version__


def test_modules_point_at_sections_of_docs_design_md_not_outside_the_repository() -> None:
    headings = {
        line.lstrip("#").strip()
        for line in DESIGN.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    }
    for path in modules().values():
        text = " ".join(path.read_text(encoding="utf-8").split())
        assert "DESIGN §" not in text, f"{path} cites DESIGN.md, which a clone does not have"
        for section in re.findall(r'docs/design\.md, "([^"]+)"', text):
            assert section in headings, f'{path}: docs/design.md has no section "{section}"'
