"""Question items in the CameraBench / CamReasoner format (conventions.md), read and written.

Also reads CameraBench's JSON-Lines test format (``image``, ``question``, ``label``, ``task``,
``label_name``) into the same :class:`Question` records.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import json_lines, write_json_atomic
from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS, primitive_from_problem_id, split_option

_SOLUTION = re.compile(r"<answer>\s*([A-Z])\s*</answer>")
REQUIRED_FIELDS = ("problem_id", "problem", "options", "solution", "path")


@dataclass
class Question:
    """One question about one video. ``answer`` is the right letter, or None if unknown."""

    id: str
    problem_id: str
    question: str
    options: list[str]
    answer: str | None
    path: str
    data_source: str = ""
    dataset: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def primitive(self) -> str | None:
        """The primitive a binary question asks about (None for VQA items)."""
        if not self.is_binary:
            return None
        return primitive_from_problem_id(self.problem_id) or _primitive_of_text(self.question)

    @property
    def is_binary(self) -> bool:
        """Whether this is a yes/no question with options ``A. No`` / ``B. Yes``."""
        return list(self.options) == list(BINARY_OPTIONS)

    @property
    def letters(self) -> str:
        """The option letters, e.g. ``"AB"``."""
        return "".join(split_option(o)[0] for o in self.options)

    def to_item(self) -> dict[str, Any]:
        """The CameraBench / CamReasoner JSON item of this question."""
        item = {
            "problem_id": self.problem_id,
            "problem": self.question,
            "data_type": "video",
            "problem_type": "multiple choice",
            "options": list(self.options),
            "process": "",
            "solution": f"<answer>{self.answer}</answer>" if self.answer else "",
            "path": self.path,
            "data_source": self.data_source,
            "dataset": self.dataset,
            "output": [],
            "id": self.id,
        }
        item.update(self.extra)
        return item


def _primitive_of_text(question: str) -> str | None:
    from camreasoner.core.taxonomy import QUESTION_TO_PRIMITIVE

    return QUESTION_TO_PRIMITIVE.get(question.strip())


def binary_question(primitive: str, path: str, answer: bool | None, index: int, **kw: Any) -> Question:
    """The conventions' binary question for ``primitive`` about the clip at ``path``."""
    letter = None if answer is None else ("B" if answer else "A")
    qid = f"{primitive}_{index}"
    return Question(
        id=qid,
        problem_id=qid,
        question=QUESTIONS[primitive],
        options=list(BINARY_OPTIONS),
        answer=letter,
        path=path,
        **kw,
    )


def question_from_item(item: Any, index: int, source: str = "") -> Question:
    """Parse one CameraBench / CamReasoner item; a malformed one raises naming its index and field."""
    where = f"{source}: item {index}" if source else f"item {index}"
    if not isinstance(item, dict):
        raise CamReasonerError(f"{where}: expected a JSON object, got {type(item).__name__}")
    for key in REQUIRED_FIELDS:
        if key not in item:
            raise CamReasonerError(f"{where}: missing field '{key}'")
    options = item["options"]
    if not isinstance(options, list) or len(options) < 2:
        raise CamReasonerError(f"{where}: field 'options' must be a list of at least 2 options")
    try:
        letters = [split_option(str(o))[0] for o in options]
    except ValueError as exc:
        raise CamReasonerError(f"{where}: field 'options': {exc}") from None
    if not isinstance(item["problem"], str) or not item["problem"].strip():
        raise CamReasonerError(f"{where}: field 'problem' must be a non-empty string")
    if not isinstance(item["path"], str) or not item["path"]:
        raise CamReasonerError(f"{where}: field 'path' must be a non-empty string")
    solution = item["solution"] or ""
    answer = None
    if solution:
        match = _SOLUTION.search(str(solution))
        if not match or match.group(1) not in letters:
            raise CamReasonerError(
                f"{where}: field 'solution' must be '<answer>X</answer>' with X one of {letters}"
            )
        answer = match.group(1)
    known = set(REQUIRED_FIELDS) | {
        "id",
        "data_type",
        "problem_type",
        "process",
        "output",
        "data_source",
        "dataset",
    }
    return Question(
        id=str(item.get("id", item["problem_id"])),
        problem_id=str(item["problem_id"]),
        question=item["problem"],
        options=[str(o) for o in options],
        answer=answer,
        path=item["path"],
        data_source=str(item.get("data_source", "")),
        dataset=str(item.get("dataset", "")),
        extra={k: v for k, v in item.items() if k not in known},
    )


def question_from_jsonl_record(rec: Any, index: int, source: str = "") -> Question:
    """Parse one line of CameraBench's JSON-Lines test format into a binary :class:`Question`.

    Fields: ``image`` (the video path), ``question``, ``label`` ("Yes"/"No" or 1/0), ``task`` and
    ``label_name`` (the primitive or skill).
    """
    where = f"{source}: line {index + 1}" if source else f"line {index + 1}"
    if not isinstance(rec, dict):
        raise CamReasonerError(f"{where}: expected a JSON object")
    for key in ("image", "question", "label"):
        if key not in rec:
            raise CamReasonerError(f"{where}: missing field '{key}'")
    label = rec["label"]
    if isinstance(label, str):
        norm = label.strip().lower()
        if norm not in {"yes", "no"}:
            raise CamReasonerError(f"{where}: field 'label' must be Yes or No, got {label!r}")
        yes = norm == "yes"
    elif isinstance(label, (int, bool)) and int(label) in (0, 1):
        yes = bool(label)
    else:
        raise CamReasonerError(f"{where}: field 'label' must be Yes/No or 1/0, got {label!r}")
    text = str(rec["question"]).strip()
    # CameraBench's prompts sometimes append an instruction; keep the question sentence.
    text = text.split("\n")[0].strip()
    primitive = _primitive_of_text(text) or primitive_from_problem_id(str(rec.get("label_name", "")))
    name = primitive or str(rec.get("label_name") or rec.get("task") or "question")
    qid = f"{name}_{index}"
    return Question(
        id=qid,
        problem_id=qid,
        question=text,
        options=list(BINARY_OPTIONS),
        answer="B" if yes else "A",
        path=str(rec["image"]),
        dataset=str(rec.get("task", "")),
        extra={"label_name": rec.get("label_name")},
    )


def read_questions(path: str | os.PathLike[str]) -> list[Question]:
    """Read a question file: a JSON list of items, or JSON Lines (CameraBench test format or items)."""
    path = Path(path)
    if not path.is_file():
        raise CamReasonerError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise CamReasonerError(f"{path}: file is empty")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CamReasonerError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        return [question_from_item(it, i, str(path)) for i, it in enumerate(items)]
    out: list[Question] = []
    for i, rec in json_lines(text.splitlines(), path):
        if isinstance(rec, dict) and "problem_id" in rec:
            out.append(question_from_item(rec, i, str(path)))
        else:
            out.append(question_from_jsonl_record(rec, i, str(path)))
    if not out:
        raise CamReasonerError(f"{path}: no questions in file")
    return out


def write_questions(path: str | os.PathLike[str], questions: Iterable[Question]) -> None:
    """Write questions as a CameraBench / CamReasoner JSON list, atomically."""
    write_json_atomic(path, [q.to_item() for q in questions])
