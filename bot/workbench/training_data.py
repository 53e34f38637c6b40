"""The training data as admins change it from the workbench: examples added to an intent, new
intents with their rule and knowledge-base article.

Files are edited in place with a round-trip YAML parser (order, comments and block style are
kept), so the data stays reviewable in git. Every change is checked first: intent names (lower
case ASCII), example length, an example already under the same intent (duplicate) or under
another one (conflict). RUCs, DNIs, phone numbers and e-mail addresses in an example are
replaced by fixed invented ones (:func:`bot.knowledge.personal_data.with_placeholders`): a citizen's
real data never reaches the training files. A change either writes all its files or none
(:mod:`bot.workbench.project_files`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.knowledge.personal_data import with_placeholders
from bot.knowledge.text import fold
from bot.ops.settings import ROOT
from bot.workbench.project_files import write_all

INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
MAX_EXAMPLE_CHARS = 300
#: Where examples of new intents go.
NEW_INTENTS_FILE = "nuevos_temas.yml"
#: The rule that answers a new intent from its article.
RULES_FILE = "faq.yml"


class TrainingDataError(ValueError):
    """A refused change, with a Spanish message for the admin."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Problem:
    """A duplicate (same intent) or a conflict (another intent) found before saving."""

    kind: str
    text: str
    intent: str
    existing_intent: str


@dataclass
class Plan:
    """What a change would write: examples per intent, and the problems found."""

    add: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def conflicts(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "conflict"]


def round_trip_yaml(nested_offset: bool = False) -> YAML:
    """The round-trip parser; ``nested_offset``: lists indented under their key
    ("rules:\n  - rule: …", as in domain.yml and the rule files) rather than flush with it
    ("nlu:\n- intent: …", as in the NLU files)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    if nested_offset:
        yaml.indent(mapping=2, sequence=4, offset=2)
    else:
        yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def lists_indented(text: str) -> bool:
    """Whether the file indents a top-level key's list ("key:\n  - item")."""
    match = re.search(r"^[A-Za-z_]+:\n(?:[ \t]*#.*\n|[ \t]*\n)*( *)- ", text, re.MULTILINE)
    return bool(match and match.group(1))


def normalize_example(text: str) -> str:
    """One line, single spaces, personal data as placeholders; refused when empty or too
    long."""
    cleaned = " ".join(with_placeholders(str(text)).split())
    if not cleaned:
        raise TrainingDataError("empty_example", "El ejemplo está vacío.")
    if len(cleaned) > MAX_EXAMPLE_CHARS:
        raise TrainingDataError(
            "example_too_long",
            f"El ejemplo es muy largo: máximo {MAX_EXAMPLE_CHARS} caracteres.",
        )
    if cleaned.startswith("/"):
        raise TrainingDataError("invalid_example", "Un ejemplo no puede empezar con «/».")
    return cleaned


def check_intent_name(name: str) -> str:
    if not INTENT_NAME.match(name):
        raise TrainingDataError(
            "invalid_intent",
            "El nombre de la intención va en minúsculas, sin tildes ni espacios (letras, "
            "números y _), de 3 a 64 caracteres; por ejemplo: cobranza_coactiva.",
        )
    return name


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text)))


def _examples(block: str) -> list[str]:
    return [line.strip()[2:] for line in str(block).splitlines() if line.strip().startswith("- ")]


class TrainingData:
    """``data/nlu`` (+ ``domain.yml``, ``data/rules``, ``data/knowledge`` for new intents)."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self.nlu_dir = root / "data" / "nlu"
        #: Each loaded document's list style, so it is written back the same way.
        self._styles: dict[int, bool] = {}

    # --- reading ------------------------------------------------------------------------------

    def _load(self, path: Path) -> CommentedMap:
        text = path.read_text(encoding="utf-8")
        data = round_trip_yaml(lists_indented(text)).load(text)
        if not isinstance(data, CommentedMap):
            return CommentedMap()
        self._styles[id(data)] = lists_indented(text)
        return data

    def examples_by_intent(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for path in sorted(self.nlu_dir.glob("*.yml")):
            for item in self._load(path).get("nlu") or []:
                if isinstance(item, dict) and item.get("intent"):
                    found.setdefault(str(item["intent"]), []).extend(
                        _examples(item.get("examples", ""))
                    )
        return found

    def intents(self) -> list[str]:
        domain = self._load(self.root / "domain.yml")
        return [str(i) for i in domain.get("intents") or []]

    # --- planning -----------------------------------------------------------------------------

    def plan(self, pairs: Iterable[tuple[str, str]]) -> Plan:
        """Check (text, intent) pairs against the data: duplicates are dropped, conflicts
        reported (a text cannot teach two intents)."""
        existing: dict[str, str] = {}
        for intent, examples in self.examples_by_intent().items():
            for example in examples:
                existing.setdefault(_key(example), intent)
        plan = Plan()
        seen: dict[str, str] = {}
        for text, intent in pairs:
            example = normalize_example(text)
            key = _key(example)
            owner = existing.get(key) or seen.get(key)
            if owner == intent:
                plan.problems.append(Problem("duplicate", example, intent, owner))
                continue
            if owner is not None:
                plan.problems.append(Problem("conflict", example, intent, owner))
                continue
            seen[key] = intent
            plan.add.setdefault(intent, []).append(example)
        return plan

    # --- writing ------------------------------------------------------------------------------

    def add_examples(self, pairs: Sequence[tuple[str, str]]) -> Plan:
        """Append examples to their intents' blocks (intents must exist). Refused, with
        nothing written, when there is a conflict."""
        known = set(self.intents())
        for _, intent in pairs:
            if check_intent_name(intent) not in known:
                raise TrainingDataError("unknown_intent", f"No existe la intención «{intent}».")
        plan = self.plan(pairs)
        if plan.conflicts:
            first = plan.conflicts[0]
            raise TrainingDataError(
                "conflict",
                f"«{first.text}» ya es un ejemplo de «{first.existing_intent}»: "
                "un mismo texto no puede enseñar dos intenciones.",
            )
        writes: dict[Path, str] = {}
        remaining = dict(plan.add)
        for path in sorted(self.nlu_dir.glob("*.yml")):
            if not remaining:
                break
            data = self._load(path)
            changed = False
            for item in data.get("nlu") or []:
                intent = str(item.get("intent", "")) if isinstance(item, dict) else ""
                if intent in remaining:
                    block = str(item.get("examples", ""))
                    if block and not block.endswith("\n"):
                        block += "\n"
                    block += "".join(f"- {e}\n" for e in remaining.pop(intent))
                    item["examples"] = LiteralScalarString(block)
                    changed = True
            if changed:
                writes[path] = self._dump(data)
        if remaining:  # an intent in the domain without examples yet
            path = self.nlu_dir / NEW_INTENTS_FILE
            data = self._load(path) if path.exists() else self._new_nlu_file()
            for intent, examples in remaining.items():
                data["nlu"].append(_intent_block(intent, examples))
            writes[path] = self._dump(data)
        _write_all(writes)
        return plan

    def add_intent(
        self,
        intent: str,
        examples: Sequence[str],
        title: str,
        answer: str,
        source_name: str,
        source_url: str,
        reviewed: dt.date,
    ) -> Plan:
        """A new intent: its examples, its place in the domain, the rule that answers it and
        its knowledge-base article, all written or none."""
        check_intent_name(intent)
        if intent in self.intents():
            raise TrainingDataError("intent_exists", f"La intención «{intent}» ya existe.")
        if len(examples) < 2:
            raise TrainingDataError(
                "few_examples", "Una intención nueva necesita al menos 2 ejemplos."
            )
        if not title.strip() or not answer.strip():
            raise TrainingDataError("empty_answer", "El artículo necesita título y respuesta.")
        if not source_url.startswith("https://"):
            raise TrainingDataError(
                "invalid_source", "La fuente oficial debe ser un enlace https://."
            )
        article_path = self.root / "data" / "knowledge" / f"{intent}.yml"
        if article_path.exists():
            raise TrainingDataError("intent_exists", f"Ya hay un artículo «{intent}».")
        plan = self.plan((e, intent) for e in examples)
        if plan.conflicts:
            first = plan.conflicts[0]
            raise TrainingDataError(
                "conflict", f"«{first.text}» ya es un ejemplo de «{first.existing_intent}»."
            )
        writes: dict[Path, str] = {}
        nlu_path = self.nlu_dir / NEW_INTENTS_FILE
        nlu = self._load(nlu_path) if nlu_path.exists() else self._new_nlu_file()
        nlu["nlu"].append(_intent_block(intent, plan.add.get(intent, [])))
        writes[nlu_path] = self._dump(nlu)

        domain_path = self.root / "domain.yml"
        domain = self._load(domain_path)
        intents = domain.get("intents")
        assert isinstance(intents, CommentedSeq)
        intents.append(intent)
        writes[domain_path] = self._dump(domain)

        rules_path = self.root / "data" / "rules" / RULES_FILE
        rules = self._load(rules_path)
        rule = CommentedMap()
        rule["rule"] = f"responder {intent}"
        rule["steps"] = CommentedSeq([CommentedMap(intent=intent),
                                      CommentedMap(action="action_answer")])  # fmt: skip
        rules["rules"].append(rule)
        writes[rules_path] = self._dump(rules)

        article = CommentedMap()
        article["id"] = intent
        article["title"] = title.strip()
        article["answer"] = LiteralScalarString(answer.strip() + "\n")
        article["buttons"] = CommentedSeq()
        article["source"] = CommentedMap(name=source_name.strip() or "SUNAT", url=source_url)
        article["reviewed"] = reviewed
        article["tags"] = CommentedSeq(["nuevo"])
        writes[article_path] = self._dump(article)
        _write_all(writes)
        return plan

    def _new_nlu_file(self) -> CommentedMap:
        data = round_trip_yaml().load(
            'version: "3.1"\n# Intents created from the admin workbench.\nnlu: []\n'
        )
        assert isinstance(data, CommentedMap)
        return data

    def _dump(self, data: CommentedMap) -> str:
        out = io.StringIO()
        round_trip_yaml(self._styles.get(id(data), False)).dump(data, out)
        return out.getvalue()


def _intent_block(intent: str, examples: Sequence[str]) -> CommentedMap:
    block = CommentedMap()
    block["intent"] = intent
    block["examples"] = LiteralScalarString("".join(f"- {e}\n" for e in examples))
    return block


def _write_all(writes: dict[Path, str]) -> None:
    """Write every file or none."""
    write_all({path: text.encode("utf-8") for path, text in writes.items()})
