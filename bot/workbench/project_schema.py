"""The shape Rasa requires of the project's files, checked before an uploaded file replaces one.

Rasa validates ``domain.yml`` and the training data against schemas of its own
(``rasa/shared/utils/schemas/domain.yml``, ``stories.yml``, ``nlu.yml``); a file that parses as
YAML but breaks them would be accepted by the upload and then fail the next training, the
console's knowledge answers and the action server's search (they read ``data/nlu``). This
module checks the same structure, in the gateway's environment (no Rasa there): the types of
the keys Rasa knows, the list items' required keys. Keys Rasa ignores are left alone, as Rasa
does. Problems are Spanish sentences naming the file and the place, e.g.
``data/nlu/x.yml: «nlu» debe ser una lista``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: What a training data file's NLU block is about: exactly one of these keys.
NLU_KINDS = ("intent", "synonym", "regex", "lookup")


class _Found:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.problems.append(f"{self.name}: «{where}» {what}")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "un mapeo"
    if isinstance(value, list):
        return "una lista"
    if isinstance(value, str):
        return "un texto"
    if value is None:
        return "vacío"
    return f"«{value}»"


def _text(found: _Found, where: str, value: Any, empty: bool = False) -> bool:
    if not isinstance(value, str) or (not empty and not value.strip()):
        found.add(where, f"debe ser un texto no vacío (es {_kind(value)})")
        return False
    return True


def _items(found: _Found, where: str, value: Any, nullable: bool = False) -> list[Any]:
    """The list at ``where`` (a problem when it is not one)."""
    if value is None and nullable:
        return []
    if not isinstance(value, list):
        found.add(where, f"debe ser una lista (es {_kind(value)})")
        return []
    return value


def _mapping(found: _Found, where: str, value: Any, nullable: bool = False) -> dict[Any, Any]:
    if value is None and nullable:
        return {}
    if not isinstance(value, dict):
        found.add(where, f"debe ser un mapeo de campos (es {_kind(value)})")
        return {}
    return value


def _version(found: _Found, data: dict[Any, Any]) -> None:
    if "version" in data:
        _text(found, "version", data["version"])


def _nlu(found: _Found, data: dict[Any, Any]) -> None:
    for n, item in enumerate(_items(found, "nlu", data["nlu"]), 1):
        where = f"nlu[{n}]"
        if not isinstance(item, dict):
            found.add(where, f"debe ser un bloque «- intent: …» con «examples» (es {_kind(item)})")
            continue
        kinds = [k for k in NLU_KINDS if k in item]
        if len(kinds) != 1:
            found.add(where, "debe tener una sola de las claves intent, synonym, regex o lookup")
            continue
        _text(found, f"{where}.{kinds[0]}", item[kinds[0]])
        examples = item.get("examples")
        if isinstance(examples, str):
            continue
        if kinds[0] == "intent" and isinstance(examples, list):
            for m, example in enumerate(examples, 1):
                if not isinstance(example, dict) or not isinstance(example.get("text"), str):
                    found.add(f"{where}.examples[{m}]", "debe tener «text» con el ejemplo")
            continue
        found.add(f"{where}.examples", f"debe ser el texto con los ejemplos (es {_kind(examples)})")


def _steps(found: _Found, where: str, item: dict[Any, Any]) -> None:
    if "steps" not in item:
        found.add(where, "no tiene «steps»")
        return
    for m, step in enumerate(_items(found, f"{where}.steps", item["steps"]), 1):
        if not isinstance(step, dict) or not step:
            found.add(f"{where}.steps[{m}]", f"debe ser un paso (- intent: …, - action: …), "
                      f"no {_kind(step)}")  # fmt: skip


def _conversations(found: _Found, data: dict[Any, Any], key: str, name_key: str) -> None:
    for n, item in enumerate(_items(found, key, data[key]), 1):
        where = f"{key}[{n}]"
        if not isinstance(item, dict):
            found.add(where, f"debe ser un bloque «- {name_key}: …» con «steps» (es {_kind(item)})")
            continue
        if name_key not in item:
            found.add(where, f"no tiene «{name_key}» (su nombre)")
        else:
            _text(found, f"{where}.{name_key}", item[name_key])
        _steps(found, where, item)
        if "condition" in item:
            _items(found, f"{where}.condition", item["condition"])
        for flag in ("conversation_start", "wait_for_user_input"):
            if flag in item and not isinstance(item[flag], bool):
                found.add(f"{where}.{flag}", "debe ser true o false")


def _responses(found: _Found, value: Any) -> None:
    for name, variants in _mapping(found, "responses", value, nullable=True).items():
        for n, variant in enumerate(_items(found, f"responses.{name}", variants), 1):
            if not isinstance(variant, dict) or not variant:
                found.add(f"responses.{name}[{n}]", "debe ser un mapeo (text, buttons, …)")


def _training_data(found: _Found, data: dict[Any, Any]) -> None:
    _version(found, data)
    if "nlu" in data:
        _nlu(found, data)
    if "rules" in data:
        _conversations(found, data, "rules", "rule")
    if "stories" in data:
        _conversations(found, data, "stories", "story")
    if "responses" in data:
        _responses(found, data["responses"])


def _names(found: _Found, where: str, value: Any) -> None:
    """A list of names, or of one-key mappings (``- intent: {use_entities: …}``)."""
    for n, item in enumerate(_items(found, where, value, nullable=True), 1):
        if isinstance(item, str) and item.strip():
            continue
        if isinstance(item, dict) and len(item) == 1:
            continue
        found.add(f"{where}[{n}]", f"debe ser un nombre (es {_kind(item)})")


def _slots(found: _Found, value: Any) -> None:
    for name, slot in _mapping(found, "slots", value, nullable=True).items():
        where = f"slots.{name}"
        if not isinstance(slot, dict):
            found.add(where, f"debe ser un mapeo con «type» y «mappings» (es {_kind(slot)})")
            continue
        if "type" not in slot:
            found.add(where, "no tiene «type»")
        if "mappings" not in slot:
            found.add(where, "no tiene «mappings»")
            continue
        for n, mapping in enumerate(_items(found, f"{where}.mappings", slot["mappings"]), 1):
            if not isinstance(mapping, dict):
                found.add(f"{where}.mappings[{n}]", "debe ser un mapeo (type: …)")


def _domain(found: _Found, data: dict[Any, Any]) -> None:
    _version(found, data)
    for key in ("intents", "entities", "actions"):
        if key in data:
            _names(found, key, data[key])
    if "e2e_actions" in data:
        _items(found, "e2e_actions", data["e2e_actions"], nullable=True)
    if "responses" in data:
        _responses(found, data["responses"])
    if "slots" in data:
        _slots(found, data["slots"])
    if "forms" in data:
        for name, form in _mapping(found, "forms", data["forms"], nullable=True).items():
            form = _mapping(found, f"forms.{name}", form, nullable=True)
            if "required_slots" in form:
                _names(found, f"forms.{name}.required_slots", form["required_slots"])
    for key in ("session_config", "config"):
        if key in data:
            _mapping(found, key, data[key], nullable=True)


def _config(found: _Found, data: dict[Any, Any]) -> None:
    for key in ("recipe", "language", "assistant_id"):
        if key in data:
            _text(found, key, data[key])
    for key in ("pipeline", "policies"):
        for n, component in enumerate(_items(found, key, data.get(key), nullable=True), 1):
            if not isinstance(component, dict) or not isinstance(component.get("name"), str):
                found.add(f"{key}[{n}]", "debe ser un componente con «name»")


_CHECKS: dict[str, Callable[[_Found, dict[Any, Any]], None]] = {
    "domain.yml": _domain,
    "config.yml": _config,
}


def problems(name: str, data: Any) -> list[str]:
    """What in ``data`` (the parsed file at ``name``, a path in the project) Rasa would refuse.

    ``domain.yml`` and ``config.yml`` are checked as such; any other file (``data/nlu``,
    ``data/rules``, ``data/stories``) as training data, which may hold any of ``nlu``, ``rules``,
    ``stories`` and ``responses``."""
    found = _Found(name)
    if not isinstance(data, dict):
        found.problems.append(f"{name}: debe contener un mapeo de campos (es {_kind(data)})")
        return found.problems
    _CHECKS.get(name, _training_data)(found, data)
    return found.problems
