"""The suite's exports, each written atomically and read back by its consumer's loader.

- ``hf/{sft,rl}/{split}.parquet``: Hugging Face ``datasets`` parquet (the contract's columns).
- ``easyr1/{sft,rl}/{split}.json``: CamReasoner / Video-R1 items (``problem``, ``options``,
  ``solution``, ``path``, ``process`` = observation + think for SFT) plus EasyR1's default keys
  (``answer``, ``videos``).
- ``llamafactory/sft_{split}.json`` + ``dataset_info.json``: LLaMA-Factory's ShareGPT format
  (``messages`` with role/content tags, ``<video>`` in the user turn, ``videos`` list; paths are
  relative to the video root, so set LLaMA-Factory's ``media_dir`` to it).
- ``verl/{split}.parquet``: verl's RL format (``data_source``, ``prompt`` as a chat list with a
  ``<video>`` token, ``videos`` = ``[{"video": absolute path}]``, ``ability``,
  ``reward_model = {"style": "rule", "ground_truth": letter}``, ``extra_info``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from camreasoner.core.io import atomic_path, write_json_atomic
from camreasoner.core.ota import parse_strict

DATA_SOURCE = "camreasoner-suite"
ABILITY = "camera_motion"

SFT_COLUMNS = ("id", "clip", "video", "problem", "options", "answer", "response", "source", "kind", "augment")
RL_COLUMNS = (
    "id",
    "clip",
    "video",
    "problem",
    "options",
    "answer",
    "kind",
    "difficulty",
    "pass_rate",
    "measured",
    "augment",
)


def _features(columns: Sequence[str]):
    import datasets

    types = {
        "options": datasets.Sequence(datasets.Value("string")),
        "difficulty": datasets.Value("float64"),
        "pass_rate": datasets.Value("float64"),
    }
    return datasets.Features({c: types.get(c, datasets.Value("string")) for c in columns})


def _atomic_parquet(ds, path: Path) -> None:
    import datasets

    datasets.disable_progress_bars()
    with atomic_path(path, suffix=".parquet") as tmp:
        ds.to_parquet(str(tmp))


def write_hf(rows: Sequence[dict[str, Any]], path: Path, columns: Sequence[str]) -> None:
    """One split as ``datasets`` parquet with a fixed schema (an empty split keeps its columns)."""
    import datasets

    data = {c: [r[c] for r in rows] for c in columns}
    _atomic_parquet(datasets.Dataset.from_dict(data, features=_features(columns)), path)


def read_hf(path: Path) -> list[dict[str, Any]]:
    """Rows of an ``hf`` parquet split, through ``datasets``."""
    import datasets

    return datasets.Dataset.from_parquet(str(path), keep_in_memory=True).to_list()


# ---- CamReasoner / EasyR1 JSON ----------------------------------------------------------------


def easyr1_item(row: dict[str, Any], index: int) -> dict[str, Any]:
    """A CamReasoner / Video-R1 item with EasyR1's ``answer``, ``prompt`` and ``videos`` keys."""
    process = ""
    if row.get("response"):
        parsed = parse_strict(row["response"])
        if parsed is not None:
            process = f"<observation>{parsed.observation}</observation>\n<think>{parsed.think}</think>"
    item = {
        "problem_id": f"{row['kind']}_{index}",
        "problem": row["problem"],
        "data_type": "video",
        "problem_type": "multiple choice",
        "options": list(row["options"]),
        "process": process,
        "solution": f"<answer>{row['answer']}</answer>",
        "path": row["video"],
        "data_source": DATA_SOURCE,
        "dataset": row.get("source", "rl"),
        "output": [],
        "id": row["id"],
        "answer": row["answer"],
        "prompt": _user_text(row),  # full user text (video slot, question, options, O-T-A instruction)
        "videos": [row["video"]],
        "clip": row["clip"],
        "kind": row["kind"],
        "augment": row.get("augment", ""),
    }
    for key in ("difficulty", "pass_rate", "measured"):
        if key in row:
            item[key] = row[key]
    return item


def row_from_easyr1(item: dict[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """Back from an EasyR1 item to a suite row."""
    row = {
        "id": item["id"],
        "clip": item["clip"],
        "video": item["path"],
        "problem": item["problem"],
        "options": list(item["options"]),
        "answer": item["answer"],
        "kind": item["kind"],
        "augment": item.get("augment", ""),
    }
    if "response" in columns:
        row["response"] = f"{item['process']}\n{item['solution']}"
        row["source"] = item["dataset"]
    for key in ("difficulty", "pass_rate", "measured"):
        if key in columns:
            row[key] = item[key]
    return {c: row[c] for c in columns}


def write_easyr1(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """One split as a JSON list of items."""
    write_json_atomic(path, [easyr1_item(r, i) for i, r in enumerate(rows)], indent=None)


# ---- LLaMA-Factory ShareGPT --------------------------------------------------------------------


def _user_text(row: dict[str, Any]) -> str:
    from camreasoner.model.prompt import question_text

    return "<video>" + question_text(row["problem"], row["options"])


def sharegpt_item(row: dict[str, Any]) -> dict[str, Any]:
    """One SFT row as a ShareGPT conversation with the video."""
    return {
        "messages": [
            {"role": "user", "content": _user_text(row)},
            {"role": "assistant", "content": row["response"]},
        ],
        "videos": [row["video"]],
        "id": row["id"],
    }


def llamafactory_dataset_info(files: dict[str, str]) -> dict[str, Any]:
    """``dataset_info.json`` entries (name -> file) in LLaMA-Factory's documented schema."""
    return {
        name: {
            "file_name": file,
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "videos": "videos"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
            },
        }
        for name, file in files.items()
    }


def write_llamafactory(splits: dict[str, Sequence[dict[str, Any]]], out: Path) -> None:
    """``sft_<split>.json`` per split and a ``dataset_info.json`` naming them."""
    files = {}
    for split, rows in splits.items():
        name = f"sft_{split}.json"
        write_json_atomic(out / name, [sharegpt_item(r) for r in rows], indent=None)
        files[f"camreasoner_sft_{split}"] = name
    write_json_atomic(out / "dataset_info.json", llamafactory_dataset_info(files))


# ---- verl --------------------------------------------------------------------------------------


def verl_row(row: dict[str, Any], index: int, split: str, video_root: Path) -> dict[str, Any]:
    """One RL row in verl's parquet schema."""
    return {
        "data_source": DATA_SOURCE,
        "prompt": [{"role": "user", "content": _user_text(row)}],
        "videos": [{"video": str((video_root / row["video"]).resolve())}],
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": row["answer"]},
        "extra_info": {
            "split": split,
            "index": index,
            "id": row["id"],
            "clip": row["clip"],
            "video": row["video"],
            "problem": row["problem"],
            "kind": row["kind"],
            "augment": row.get("augment", ""),
            "options": list(row["options"]),
            "measured": row["measured"],
            "difficulty": float(row["difficulty"]),
            "pass_rate": float(row["pass_rate"]),
        },
    }


def write_verl(rows: Sequence[dict[str, Any]], path: Path, split: str, video_root: Path) -> None:
    """One RL split as verl parquet."""
    import datasets

    records = [verl_row(r, i, split, video_root) for i, r in enumerate(rows)]
    _atomic_parquet(datasets.Dataset.from_list(records), path)


def row_from_verl(rec: dict[str, Any]) -> dict[str, Any]:
    """Back from a verl record to a suite RL row."""
    info = rec["extra_info"]
    return {
        "id": info["id"],
        "clip": info["clip"],
        "video": info["video"],
        "problem": info["problem"],
        "options": list(info["options"]),
        "answer": rec["reward_model"]["ground_truth"],
        "kind": info["kind"],
        "difficulty": info["difficulty"],
        "pass_rate": info["pass_rate"],
        "measured": info["measured"],
        "augment": info["augment"],
    }


def write_all(
    out: Path,
    sft: dict[str, list[dict[str, Any]]],
    rl: dict[str, list[dict[str, Any]]],
    video_root: Path,
) -> dict[str, list[str]]:
    """Every export (splits without rows are left out); returns format -> files written."""
    written: dict[str, list[str]] = {"hf": [], "easyr1": [], "llamafactory": [], "verl": []}
    for split, rows in sft.items():
        _remove(out / "hf" / "sft" / f"{split}.parquet", out / "easyr1" / "sft" / f"{split}.json")
        if rows:  # an empty split is not written: datasets cannot load a parquet file without rows
            write_hf(rows, out / "hf" / "sft" / f"{split}.parquet", SFT_COLUMNS)
            write_easyr1(rows, out / "easyr1" / "sft" / f"{split}.json")
            written["hf"].append(f"hf/sft/{split}.parquet")
            written["easyr1"].append(f"easyr1/sft/{split}.json")
    for split, rows in rl.items():
        _remove(out / "hf" / "rl" / f"{split}.parquet", out / "easyr1" / "rl" / f"{split}.json")
        _remove(out / "verl" / f"{split}.parquet")
        if rows:
            write_hf(rows, out / "hf" / "rl" / f"{split}.parquet", RL_COLUMNS)
            write_easyr1(rows, out / "easyr1" / "rl" / f"{split}.json")
            write_verl(rows, out / "verl" / f"{split}.parquet", split, video_root)
            written["hf"].append(f"hf/rl/{split}.parquet")
            written["easyr1"].append(f"easyr1/rl/{split}.json")
            written["verl"].append(f"verl/{split}.parquet")
    nonempty = {k: v for k, v in sft.items() if v}
    for split in sft:
        _remove(out / "llamafactory" / f"sft_{split}.json")
    write_llamafactory(nonempty, out / "llamafactory")
    written["llamafactory"] = ["llamafactory/dataset_info.json"] + [f"llamafactory/sft_{s}.json" for s in nonempty]
    return written


def _remove(*paths: Path) -> None:
    """Drop a stale export of an earlier build (a split that is now empty)."""
    for p in paths:
        p.unlink(missing_ok=True)


def load_json(path: Path) -> Any:
    """A JSON file through ``datasets``' JSON loader (as its consumers read it)."""
    import datasets

    return datasets.load_dataset("json", data_files=str(path), split="train").to_list()


def read_json_plain(path: Path) -> Any:
    """A JSON file as written."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
