"""The package's import graph: no cycle, no private name taken from another module, and the
rooms below the model (records, simulate, importers, teacher, baselines) importing only what
lies below them, and the rooms from the model up never importing a later stage of the flow.

Every `import` counts, at module level and inside functions alike: a function-level import is
still a run-time dependency, and a cycle through one only waits for its first call to meet a
half-initialised module. `if TYPE_CHECKING:` imports count too (a cycle of types is still a
cycle of design), and so do the `"module:function"` strings cli.py loads with importlib.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGE = "gentool_jax"
ENTRY = re.compile(r"^(\w+(?:\.\w+)+):\w+$")  # cli.py's "gentool_jax.x.command:x_command"
# What each room below the model may import besides itself (DESIGN §6: records <- everyone;
# simulate / importers / teacher -> data -> train -> sample -> evaluate -> serve).
FLOORS = {
    "gentool_jax.records": {"gentool_jax.atomic", "gentool_jax.errors"},
    "gentool_jax.simulate": {"gentool_jax.records", "gentool_jax.atomic", "gentool_jax.errors",
                             "gentool_jax.console"},
    "gentool_jax.importers": {"gentool_jax.records", "gentool_jax.errors", "gentool_jax.simulate"},
    "gentool_jax.teacher": {"gentool_jax.records", "gentool_jax.atomic", "gentool_jax.errors",
                            "gentool_jax.config_view", "gentool_jax.simulate"},
    "gentool_jax.baselines": {"gentool_jax.records", "gentool_jax.simulate"},
}
# The model's floor and those above it: the rooms each must not import (the flow's later
# stages), so a training-time probe cannot reach into evaluation again.
LATER = ("gentool_jax.sample", "gentool_jax.evaluate", "gentool_jax.serve")
NOT_ABOVE = {
    "gentool_jax.model": ("gentool_jax.data", "gentool_jax.train", "gentool_jax.baselines",
                          *LATER),
    "gentool_jax.data": ("gentool_jax.train", *LATER),
    "gentool_jax.train": ("gentool_jax.selector", *LATER),
    "gentool_jax.selector": LATER,
    "gentool_jax.sample": ("gentool_jax.train", "gentool_jax.evaluate", "gentool_jax.serve"),
    "gentool_jax.evaluate": ("gentool_jax.serve",),
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    names: tuple[str, ...]  # the names a `from target import ...` takes that are not modules
    line: int


def modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (a package is its
    __init__.py)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if path.name != "__init__.py":
        parts.pop()
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def package_imports(root: Path, package: str) -> list[Import]:
    """Every import of a module of `package` by a module of `package`, wherever it stands."""
    known = modules(root, package)
    found = []
    for module, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [Import(module, alias.name, (), node.lineno) for alias in node.names
                          if alias.name.split(".")[0] == package]
            elif isinstance(node, ast.ImportFrom):
                target = _absolute(module, path, node)
                if target.split(".")[0] != package:
                    continue
                plain = []
                for alias in node.names:
                    if f"{target}.{alias.name}" in known:
                        found.append(Import(module, f"{target}.{alias.name}", (), node.lineno))
                    else:
                        plain.append(alias.name)
                if plain:
                    found.append(Import(module, target, tuple(plain), node.lineno))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                entry = ENTRY.match(node.value)
                if entry and entry.group(1).split(".")[0] == package:
                    found.append(Import(module, entry.group(1), (), node.lineno))
    return found


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (first module repeated at the end) per strongly connected component that has
    one, found by Tarjan's algorithm and then the shortest way round from its first module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = {node}
            while (member := stack.pop()) != node:
                component.add(member)
            if len(component) > 1 or node in edges.get(node, ()):
                components.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    cycles = []
    for component in components:
        start = min(component)
        paths = {start: [start]}
        frontier = [start]
        while frontier:
            node = frontier.pop(0)
            if start in edges.get(node, ()):
                cycles.append(paths[node] + [start])
                break
            for nxt in sorted(edges.get(node, set()) & component):
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    frontier.append(nxt)
    return sorted(cycles)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for found in package_imports(root, package):
        edges.setdefault(found.source, set()).add(found.target)
    return edges


def private_imports(root: Path, package: str) -> list[str]:
    """`file:line: module takes other._name` for every private name one module of the package
    takes from another, by `from other import _name` or as `alias._name` of an imported module."""
    known = modules(root, package)
    problems = []
    for found in package_imports(root, package):
        problems += [f"{known[found.source]}:{found.line}: {found.source} takes "
                     f"{found.target}.{name}" for name in found.names
                     if name.startswith("_") and not name.startswith("__")
                     and found.target != found.source]
    for module, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                aliases.update({alias.asname: alias.name for alias in node.names
                                if alias.asname and alias.name in known})
            elif isinstance(node, ast.ImportFrom):
                target = _absolute(module, path, node)
                aliases.update({alias.asname or alias.name: f"{target}.{alias.name}"
                                for alias in node.names if f"{target}.{alias.name}" in known})
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__") and aliases[node.value.id] != module):
                problems.append(f"{path}:{node.lineno}: {module} takes "
                                f"{aliases[node.value.id]}.{node.attr}")
    return sorted(problems)


def _inside(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_the_package_has_no_import_cycle():
    cycles = find_cycles(import_graph(REPO_ROOT, PACKAGE))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_every_import_of_the_package_names_one_of_its_modules():
    known = modules(REPO_ROOT, PACKAGE)
    missing = sorted(f"{found.source}:{found.line} imports {found.target}"
                     for found in package_imports(REPO_ROOT, PACKAGE)
                     if found.target not in known)
    assert not missing, "imports of modules that do not exist:\n" + "\n".join(missing)


def test_no_module_takes_a_private_name_from_another():
    problems = private_imports(REPO_ROOT, PACKAGE)
    assert not problems, "private names taken across modules:\n" + "\n".join(problems)


def test_the_rooms_below_the_model_import_only_what_lies_below_them():
    problems = []
    for found in package_imports(REPO_ROOT, PACKAGE):
        for room, allowed in FLOORS.items():
            if _inside(found.source, room) and not _inside(found.target, room) and not any(
                    _inside(found.target, floor) for floor in allowed):
                problems.append(f"{found.source}:{found.line} imports {found.target}")
    assert not problems, "imports above a room's floor:\n" + "\n".join(sorted(problems))


def test_the_rooms_from_the_model_up_never_import_a_later_stage():
    problems = [f"{found.source}:{found.line} imports {found.target}"
                for found in package_imports(REPO_ROOT, PACKAGE)
                for room, later in NOT_ABOVE.items()
                if _inside(found.source, room) and any(_inside(found.target, stage)
                                                       for stage in later)]
    assert not problems, "imports of a later stage:\n" + "\n".join(sorted(problems))


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_the_checks_name_a_cycle_and_a_private_import(tmp_path):
    """A cycle through a function-level and a relative import, a command string, and a private
    name taken both ways are all found and named."""
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from .b import helper\n_secret = 1\n",
        "b.py": "def helper():\n    from pkg import c\n    return c\n",
        "c.py": 'ENTRY = "pkg.a:main"\n',
        "d.py": "from pkg.a import _secret\nfrom pkg import a as alias\nVALUE = alias._secret\n",
        "sub/__init__.py": "",
        "sub/e.py": "from ..d import VALUE\n",
    })
    assert find_cycles(import_graph(root, "pkg")) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert import_graph(root, "pkg")["pkg.sub.e"] == {"pkg.d"}
    assert [line.split(": ", 1)[1] for line in private_imports(root, "pkg")] == [
        "pkg.d takes pkg.a._secret", "pkg.d takes pkg.a._secret"]
    assert find_cycles({"x": {"x"}, "y": set()}) == [["x", "x"]]
