"""Rules for the code's shape, run by ``make check``:

- no module over MAX_MODULE lines, no function over MAX_FUNCTION lines
  (decorators and docstring included), so each can be read whole;
- an import inside a function (or under ``if TYPE_CHECKING``) only where
  start-up time needs it, and saying so in a comment on it or just above it:
  imports hidden in functions are how import cycles used to be held together.

Database migrations are generated and exempt.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

MAX_MODULE = 400
MAX_FUNCTION = 60
PACKAGES = ("server", "theming", "table_client", "display", "tools")
EXEMPT = ("migrations",)
REASON = "start-up"  # the word a deferred import's comment must contain
# theming/ defers its heavy model imports by design (it is a library, and the
# embedding model's libraries take seconds to load); the rule is for the rest.
IMPORT_RULE_PACKAGES = ("server", "table_client", "display", "tools")


def python_files(root: Path) -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if not any(part in EXEMPT for part in path.relative_to(root).parts):
                yield path


def size_problems(name: Path, text: str, tree: ast.AST) -> Iterator[str]:
    lines = len(text.splitlines())
    if lines > MAX_MODULE:
        yield f"{name}: {lines} lines (at most {MAX_MODULE})"
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - first + 1
            if length > MAX_FUNCTION:
                limit = f"at most {MAX_FUNCTION}"
                yield f"{name}:{node.lineno}: {node.name}() is {length} lines ({limit})"


def _deferred_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    seen: set[int] = set()
    for node in ast.walk(tree):
        deferred = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or (
            isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        )
        if deferred:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom) and sub.lineno not in seen:
                    seen.add(sub.lineno)
                    yield sub


def import_problems(name: Path, text: str, tree: ast.AST) -> Iterator[str]:
    if name.parts[0] not in IMPORT_RULE_PACKAGES:
        return
    lines = text.splitlines()
    for node in _deferred_imports(tree):
        # The import's own lines, and the comments above its block of imports.
        said = lines[node.lineno - 1 : node.end_lineno]
        above = node.lineno - 2
        while above >= 0 and lines[above].strip().startswith(("#", "import ", "from ", ")")):
            said.append(lines[above])
            above -= 1
        if not any(REASON in line.split("#", 1)[-1] for line in said if "#" in line):
            what = ast.unparse(node)
            yield f"{name}:{node.lineno}: `{what}` inside a function needs a {REASON} comment"


def main(root: Path) -> int:
    found = []
    for path in python_files(root):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root)
        tree = ast.parse(text, str(name))
        found += [*size_problems(name, text, tree), *import_problems(name, text, tree)]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent.parent))
