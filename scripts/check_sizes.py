"""Size gates for ``make lint``: no function over 80 lines, no module over 800 lines.

A function's size is its own lines: its docstring and the functions defined inside it (checked on
their own) do not count, so documenting a function never pushes it over the gate. ruff has no
function-length rule; this walks the package's syntax trees. Usage:
``python scripts/check_sizes.py planner app.py`` (exit 1 and a list when a gate is broken).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 800


def _python_files(targets: list[str]) -> list[Path]:
    files: list[Path] = []
    for target in targets:
        path = Path(target)
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def _span(node: ast.AST) -> int:
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])  # type: ignore[attr-defined]
    return (node.end_lineno or node.lineno) - start + 1  # type: ignore[attr-defined]


def _nested_functions(node: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions defined directly inside ``node`` (not inside those)."""
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(child)
        else:
            found += _nested_functions(child)
    return found


def own_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of ``node`` without its docstring and without the functions defined inside it."""
    length = _span(node) - sum(_span(child) for child in _nested_functions(node))
    first = node.body[0] if node.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        length -= _span(first)
    return length


def problems(path: Path) -> list[str]:
    """Every size gate ``path`` breaks, as ``file:line: message`` lines."""
    text = path.read_text(encoding="utf-8")
    found: list[str] = []
    n_lines = len(text.splitlines())
    if n_lines > MAX_MODULE_LINES:
        found.append(f"{path}:1: module has {n_lines} lines (limit {MAX_MODULE_LINES}); split it")
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = own_lines(node)
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{path}:{node.lineno}: function {node.name} has {length} lines (limit {MAX_FUNCTION_LINES})"
                )
    return found


def main(argv: list[str]) -> int:
    """Check every Python file under the given folders/files; print problems, return 1 if any."""
    found = [p for f in _python_files(argv or ["planner"]) for p in problems(f)]
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
