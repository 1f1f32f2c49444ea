"""Is a new JSON Schema of an event still readable by those who rely on the committed one?

Breaking: a property removed (or renamed), a property whose type changed, a new required
property, an enumeration value removed. Adding an optional property is not breaking.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _resolve(node: Schema, root: Schema) -> Schema:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = root.get("$defs", {})[name]
    return node


def _types(node: Schema, root: Schema) -> set[str]:
    node = _resolve(node, root)
    if "anyOf" in node:
        return set().union(*(_types(option, root) for option in node["anyOf"]))
    if "enum" in node or "const" in node:
        return {"enum"}
    kind = node.get("type", "any")
    return set(kind) if isinstance(kind, list) else {kind}


def _enum_values(node: Schema, root: Schema) -> set[Any]:
    node = _resolve(node, root)
    if "anyOf" in node:
        return set().union(*(_enum_values(option, root) for option in node["anyOf"]))
    return set(node.get("enum", [])) | ({node["const"]} if "const" in node else set())


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What in `new` would break a reader or writer that follows `old`; empty if compatible."""
    return _compare(old, old, new, new, "")


def _compare(old: Schema, old_root: Schema, new: Schema, new_root: Schema, path: str) -> list[str]:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: removed")
            continue
        new_prop = new_props[name]
        old_types, new_types = _types(old_prop, old_root), _types(new_prop, new_root)
        if not old_types <= new_types:
            problems.append(
                f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}"
            )
        lost = _enum_values(old_prop, old_root) - _enum_values(new_prop, new_root)
        if lost:
            problems.append(f"{where}: values removed {sorted(map(str, lost))}")
        problems += _compare(old_prop, old_root, new_prop, new_root, f"{where}.")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{path}{name}: new required property")
    return problems
