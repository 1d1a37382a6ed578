"""`camreasoner suite build` end to end on real synthetic clips: contract, splits, chains, resume, exports."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from suite_fixtures import make_synth, options

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import parse_strict
from camreasoner.qa.consistency import check_observation
from camreasoner.suite.build import build_suite, iter_rows
from camreasoner.suite.exports import (
    RL_COLUMNS,
    SFT_COLUMNS,
    load_json,
    read_hf,
    row_from_easyr1,
    row_from_verl,
)
from camreasoner.suite.measure import measure
from camreasoner.suite.splits import SPLITS

CLI = str(Path(sys.executable).parent / "camreasoner")


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return make_synth(tmp_path_factory.mktemp("suite"), clips=6, seed=3)


@pytest.fixture(scope="module")
def built(synth, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "suite"
    opts = options(synth, out)
    result = build_suite(opts)
    return opts, result


def rows(out: Path, name: str) -> dict[str, list[dict]]:
    paths = {s: out / "hf" / name / f"{s}.parquet" for s in SPLITS}
    return {s: read_hf(p) if p.is_file() else [] for s, p in paths.items()}


def test_contract_layout_columns_and_manifest(built):
    opts, result = built
    out = opts.out
    manifest = json.loads((out / "suite.json").read_text())
    assert manifest == result.manifest
    assert manifest["video_root"] == str(opts.video_root) and manifest["seed"] == 7
    assert manifest["counts"]["sft"] == 40 and manifest["counts"]["rl"] == 60
    assert manifest["counts"]["variants"] == 6 * 4  # original, reverse, mirror, crop
    for name, cols in (("sft", SFT_COLUMNS), ("rl", RL_COLUMNS)):
        for split, rs in rows(out, name).items():
            assert (out / "hf" / name / f"{split}.parquet").is_file()
            for r in rs:
                assert list(r) == list(cols)
                assert (opts.video_root / r["video"]).is_file()
                assert r["answer"] in "ABCDEF"[: len(r["options"])]
    rl = [r for rs in rows(out, "rl").values() for r in rs]
    assert all(0.0 <= r["difficulty"] <= 1.0 and abs(r["difficulty"] + r["pass_rate"] - 1) < 1e-6 for r in rl)
    assert all(set(json.loads(r["measured"])) == set(json.loads(rl[0]["measured"])) for r in rl)
    card = (out / "README.md").read_text()
    for heading in (
        "## Binary questions per primitive",
        "## Rejections",
        "Words per response",
        "## Augmentations",
    ):
        assert heading in card


def test_a_clip_and_its_augmentations_share_one_split(built):
    opts, _ = built
    where: dict[str, set[str]] = {}
    for name in ("sft", "rl"):
        for split, rs in rows(opts.out, name).items():
            for r in rs:
                where.setdefault(r["clip"], set()).add(split)
                assert r["video"] == r["clip"] or r["augment"]
    assert all(len(s) == 1 for s in where.values())
    assert len({next(iter(s)) for s in where.values()}) >= 2  # the clips do spread over splits


def test_grounded_chains_are_right_and_agree_with_the_measurements(built):
    opts, _ = built
    sft = [r for rs in rows(opts.out, "sft").values() for r in rs]
    assert {r["source"] for r in sft} == {"grounded"}
    assert {r["augment"] for r in sft} > {""}  # augmented clips are used
    for r in sft:
        letters = "ABCDEF"[: len(r["options"])]
        parsed = parse_strict(r["response"], letters)
        assert parsed is not None and parsed.letter == r["answer"]
        reading = measure(opts.video_root / r["video"], opts.out / "work" / "measure", opts.observer)
        result = check_observation(parsed.observation, reading["primitives"])
        assert result.contradictions == [] and result.score == 1.0


def test_resume_reuses_work_and_rebuilds_the_same_suite(built):
    opts, first = built
    cache = sorted((opts.out / "work" / "measure").glob("*.json"))
    videos = sorted((opts.out / "videos").rglob("*.mp4"))
    stamps = [p.stat().st_mtime_ns for p in cache + videos]
    before = {n: list(iter_rows(opts.out, n)) for n in ("sft", "rl")}
    for p in (opts.out / "hf").rglob("*.parquet"):
        p.unlink()
    (opts.out / "suite.json").unlink()
    again = build_suite(opts)
    assert [p.stat().st_mtime_ns for p in cache + videos] == stamps  # nothing measured or encoded twice
    assert {n: list(iter_rows(opts.out, n)) for n in ("sft", "rl")} == before
    assert again.manifest["counts"] == first.manifest["counts"]


def test_exports_load_in_their_consumers_and_round_trip(built):
    opts, _ = built
    out = opts.out
    for split in SPLITS:
        sft, rl = (
            read_hf(out / "hf" / "sft" / f"{split}.parquet"),
            read_hf(out / "hf" / "rl" / f"{split}.parquet"),
        )
        # CamReasoner / EasyR1 JSON, read by datasets' JSON loader
        if sft:
            back = [
                row_from_easyr1(it, SFT_COLUMNS) for it in load_json(out / "easyr1" / "sft" / f"{split}.json")
            ]
            assert back == sft
        if rl:
            items = load_json(out / "easyr1" / "rl" / f"{split}.json")
            back = [row_from_easyr1(it, RL_COLUMNS) for it in items]
            assert back == rl
            # EasyR1 reads `prompt`: the video slot, the question, every option and the instruction
            for it in items:
                assert it["prompt"].startswith("<video>") and it["problem"] in it["prompt"]
                assert all(o in it["prompt"] for o in it["options"]) and "<observation>" in it["prompt"]
            # verl parquet: documented fields, read by datasets as verl's RLHFDataset does
            import datasets

            recs = datasets.load_dataset("parquet", data_files=str(out / "verl" / f"{split}.parquet"))[
                "train"
            ]
            assert set(recs.column_names) >= {
                "data_source",
                "prompt",
                "ability",
                "reward_model",
                "extra_info",
                "videos",
            }
            recs = recs.to_list()
            assert [row_from_verl(x) for x in recs] == rl
            for x in recs:
                assert x["reward_model"]["style"] == "rule" and x["prompt"][0]["role"] == "user"
                assert x["prompt"][0]["content"].count("<video>") == len(x["videos"]) == 1
                assert Path(x["videos"][0]["video"]).is_file()
                assert x["extra_info"]["split"] == split
        # LLaMA-Factory ShareGPT: the dataset_info schema and one <video> per video
        info = json.loads((out / "llamafactory" / "dataset_info.json").read_text())
        entry = info[f"camreasoner_sft_{split}"]
        assert entry["formatting"] == "sharegpt" and entry["columns"] == {
            "messages": "messages",
            "videos": "videos",
        }
        items = load_json(out / "llamafactory" / entry["file_name"]) if sft else []
        assert [(it["id"], it["messages"][1]["content"], it["videos"][0]) for it in items] == [
            (r["id"], r["response"], r["video"]) for r in sft
        ]
        for it in items:
            assert [m["role"] for m in it["messages"]] == ["user", "assistant"]
            assert it["messages"][0]["content"].startswith("<video>")
    # the suite directory loads as a datasets repository, one config per set
    import datasets

    for name, n in (("sft", 40), ("rl", 60)):
        ds = datasets.load_dataset(str(out), name)  # the card's front matter names the files
        assert sum(len(split) for split in ds.values()) == n


def test_bad_clips_are_recorded_and_the_build_goes_on(synth, tmp_path):
    import shutil

    root = tmp_path / "root"
    (root / "clips").mkdir(parents=True)
    labels = [json.loads(x) for x in (synth / "labels.jsonl").read_text().splitlines()[:2]]
    for rec in labels:
        shutil.copy(synth / rec["path"], root / rec["path"])
    (root / "clips" / "corrupt.mp4").write_bytes(b"not a video at all" * 100)
    missing = labels[0] | {"path": "clips/not_there.mp4"}
    corrupt = labels[0] | {"path": "clips/corrupt.mp4"}
    lab = tmp_path / "labels.jsonl"
    lab.write_text("\n".join(json.dumps(x) for x in [*labels, missing, corrupt]) + "\n")
    opts = options(root, tmp_path / "out", labels=lab, augment=("reverse",), sft=5, rl=5)
    result = build_suite(opts)
    assert result.manifest["counts"]["bad_clips"] == 2
    assert result.manifest["counts"]["variants"] == 4
    errors = json.loads((tmp_path / "out" / "work" / "bad_items.json").read_text())
    assert errors[0] == f"clips/not_there.mp4: video not found under {root}"
    assert all(e.startswith("clips/corrupt.mp4: ") and "\n" not in e for e in errors[1:]) and len(errors) >= 2


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "suite", "build", *args], capture_output=True, text=True, timeout=120)


def test_cli_builds_and_reports(synth, tmp_path):
    res = run_cli("--labels", str(synth / "labels.jsonl"), "--video-root", str(synth), "--out", str(tmp_path / "o"),
                  "--sft", "5", "--rl", "5", "--augment", "none", "--no-progress")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "suite: 5 SFT chains, 5 RL samples from 6 clips" in res.stdout
    assert (tmp_path / "o" / "hf" / "rl" / "train.parquet").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--labels", "nowhere.jsonl", "--video-root", "."], "nowhere.jsonl: no such file"),
        (
            ["--labels", "LABELS", "--video-root", "/no/such/dir"],
            "--video-root /no/such/dir: no such directory",
        ),
        (["--labels", "LABELS", "--video-root", "ROOT", "--ray-address", "auto"], "--ray-address"),
        (["--labels", "LABELS", "--video-root", "ROOT", "--augment", "flip"], "--augment 'flip'"),
        (["--labels", "LABELS", "--video-root", "ROOT", "--split", "0.5,0.5"], "--split"),
    ],
)
def test_cli_errors_are_one_line(synth, tmp_path, args, message):
    args = [a.replace("LABELS", str(synth / "labels.jsonl")).replace("ROOT", str(synth)) for a in args]
    res = run_cli(*args, "--out", str(tmp_path / "o"), "--no-progress")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert not (tmp_path / "o" / "suite.json").exists()


def test_a_build_leaves_its_options_as_they_were(synth, monkeypatch):
    """build_suite works on a resolved copy: the caller's relative paths stay relative."""
    monkeypatch.chdir(synth.parent)
    opts = options(synth, Path("rel-out"), video_root=Path(synth.name), sft=-1)
    with pytest.raises(CamReasonerError, match="--sft"):
        build_suite(opts)
    assert (opts.video_root, opts.out) == (Path(synth.name), Path("rel-out"))


def test_a_killed_build_resumes_without_redoing_work(synth, tmp_path):
    """SIGKILL right after the third clip's reading is cached (injected, no timing), then the same command."""
    import os

    out = tmp_path / "killed"
    args = [CLI, "suite", "build", "--labels", str(synth / "labels.jsonl"), "--video-root", str(synth),
            "--out", str(out), "--sft", "10", "--rl", "10", "--no-progress"]  # fmt: skip
    env = {**os.environ, "CAMREASONER_CRASH_AT": "suite-measured:3"}
    killed = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert killed.returncode == -9, killed.stderr
    cache = out / "work" / "measure"
    done = {p: p.stat().st_mtime_ns for p in cache.glob("*.json")}
    assert len(done) == 3 and not (out / "suite.json").exists()
    res = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert all(p.stat().st_mtime_ns == t for p, t in done.items())  # earlier readings kept, not redone
    assert len(list(cache.glob("*.json"))) == 24
    manifest = json.loads((out / "suite.json").read_text())
    assert manifest["counts"]["sft"] == 10 and manifest["counts"]["rl"] == 10


@pytest.mark.slow
def test_ray_build_matches_the_local_build(synth, built, tmp_path):
    """--ray-address on a local Ray instance gives exactly the rows of the in-process build."""
    import ray

    opts, _ = built
    out = tmp_path / "ray_suite"
    try:
        build_suite(options(synth, out, ray_address="local"))
    finally:
        ray.shutdown()
    def same_place(rows: list[dict], where: Path) -> list[str]:
        # augmented clips live under each suite's own folder: compare paths relative to it
        rel = os.path.relpath(where, synth)
        return [json.dumps(r, sort_keys=True).replace(rel, "OUT") for r in rows]

    for name in ("sft", "rl"):
        assert same_place(list(iter_rows(out, name)), out) == same_place(list(iter_rows(opts.out, name)), opts.out)
