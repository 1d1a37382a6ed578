"""The suite's caches never serve stale entries: sample logs keyed by backend, model and sampling
options; observer readings keyed by the observer's calibration (content and version) and options."""

import json
import shutil

import pytest
from suite_fixtures import make_synth, options

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.formats.labels import ClipLabel, read_labels, write_labels
from camreasoner.observer.reading import ObserverOptions, analyze_video
from camreasoner.observer.scoring import CALIBRATION_VERSION
from camreasoner.suite.build import build_suite, iter_rows
from camreasoner.suite.measure import cache_key, calibration_path, measure, observer_identity


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return make_synth(tmp_path_factory.mktemp("keys"), clips=3, seed=5)


def logs(out, role):
    """{log file name: its bytes} of one role's sample logs."""
    return {p.name: p.read_bytes() for p in sorted((out / "work").glob(f"{role}-*.jsonl"))}


def by_id(out, name, field):
    return {r["id"]: r[field] for r in iter_rows(out, name)}


def test_a_changed_model_or_sampling_option_never_reuses_another_runs_samples(synth, tmp_path):
    """Teacher and reference logs are per (backend, model, sampling options): a build with a changed
    teacher option or reference model samples again, and its rows equal those of a fresh build."""
    no_yes = tmp_path / "prior_no.jsonl"  # the synth labels: every primitive's Yes rate is below 1/2
    all_yes = tmp_path / "prior_yes.jsonl"  # every primitive holds: the prior answers Yes
    shutil.copy(synth / "labels.jsonl", no_yes)
    write_labels(all_yes, [ClipLabel(c.path, dict.fromkeys(PRIMITIVES, True)) for c in read_labels(no_yes)])

    def opts(out, temperature, prior):
        return options(synth, out, augment=(), sft=6, rl=40, teacher="geometric", k=1,
                       teacher_options={"model": "observer", "temperature": temperature},
                       reference="prior", reference_options={"model": str(prior)}, reference_k=1)

    out = tmp_path / "suite"
    build_suite(opts(out, 1.0, no_yes))
    first_teacher, first_reference = logs(out, "teacher"), logs(out, "reference")
    first_rates = by_id(out, "rl", "pass_rate")
    assert len(first_teacher) == len(first_reference) == 1
    assert len(next(iter(first_teacher.values())).splitlines()) == 6

    build_suite(opts(out, 0.7, all_yes))  # same OUT, another sampler and another reference model
    teacher, reference = logs(out, "teacher"), logs(out, "reference")
    assert len(teacher) == len(reference) == 2
    assert all(teacher[name] == data for name, data in first_teacher.items())  # the old logs untouched
    assert all(reference[name] == data for name, data in first_reference.items())
    (new_teacher,) = set(teacher) - set(first_teacher)
    assert len(teacher[new_teacher].splitlines()) == 6  # every item sampled again
    rates = by_id(out, "rl", "pass_rate")
    fresh = tmp_path / "fresh"  # no sample logs; the readings are copied (their keys are the same)
    shutil.copytree(out / "work" / "measure", fresh / "work" / "measure")
    build_suite(opts(fresh, 0.7, all_yes))
    assert rates == by_id(fresh, "rl", "pass_rate")
    assert rates != first_rates  # the two reference models disagree, so reuse would show

    build_suite(opts(out, 1.0, no_yes))  # back to the first options: their logs are reused as they are
    assert logs(out, "teacher") == teacher and logs(out, "reference") == reference
    assert by_id(out, "rl", "pass_rate") == first_rates


def shifted_calibration(path, primitive="Pan_Left", shift=30.0):
    data = json.loads(calibration_path().read_text())
    data["primitives"][primitive]["b"] += shift
    path.write_text(json.dumps(data))
    return path


def test_a_changed_calibration_is_measured_again_and_the_same_one_elsewhere_is_reused(synth, tmp_path):
    same = tmp_path / "copy_of_packaged.json"
    shutil.copy(calibration_path(), same)
    shifted = shifted_calibration(tmp_path / "shifted.json")
    cache = lambda out: sorted(p.name for p in (out / "work" / "measure").glob("*.json"))  # noqa: E731

    def opts(out, calibration):
        observer = {} if calibration is None else {"calibration": str(calibration)}
        return options(synth, out, augment=(), sft=10, rl=20, observer=observer)

    out = tmp_path / "suite"
    build_suite(opts(out, None))
    packaged = cache(out)
    measured = by_id(out, "rl", "measured")
    assert len(packaged) == 3
    build_suite(opts(out, same))  # the same content under another path: nothing measured again
    assert cache(out) == packaged and by_id(out, "rl", "measured") == measured
    build_suite(opts(out, shifted))
    assert len(cache(out)) == 6  # every clip measured again with the new calibration
    now = by_id(out, "rl", "measured")
    pan = lambda rows: sum(json.loads(m)["Pan_Left"] for m in rows.values())  # noqa: E731
    assert pan(now) > pan(measured)  # the shifted calibration says Pan_Left more often
    for name in set(cache(out)) - set(packaged):
        assert json.loads((out / "work" / "measure" / name).read_text())["scores"]["Pan_Left"] > 0.99
    fresh = tmp_path / "fresh"
    build_suite(opts(fresh, shifted))
    assert by_id(fresh, "rl", "measured") == now
    # Uncached: the packaged calibration, by default or under another path, gives analyze_video's
    # reading (the geometric backend's); the shifted one rescores the same measured cues.
    clip = sorted((synth / "clips").glob("*.mp4"))[0]
    observed = analyze_video(clip, ObserverOptions())
    plain = measure(clip, None, {})
    assert plain == measure(clip, None, {"calibration": str(same)})
    assert plain == {**observed.to_json(), "warnings": list(observed.warnings)}
    other = measure(clip, None, {"calibration": str(shifted)})
    assert other["measurements"]["cues"] == plain["measurements"]["cues"]
    assert other["scores"]["Pan_Left"] > 0.99 and other["scores"]["Pan_Right"] == plain["scores"]["Pan_Right"]


def test_the_cache_key_holds_calibration_version_content_and_options(tmp_path):
    clip = tmp_path / "x.mp4"
    clip.write_bytes(b"0")
    same = tmp_path / "same.json"
    shutil.copy(calibration_path(), same)
    identity = observer_identity()
    version, cal_version, content, code = identity.split("|")
    assert cal_version == f"cal-v{CALIBRATION_VERSION}" and len(content) == len(code) == 16
    assert observer_identity(same) == identity
    assert observer_identity(shifted_calibration(tmp_path / "s.json")) != identity
    assert cache_key(clip, {"calibration": str(same)}) == cache_key(clip, {})
    assert cache_key(clip, {"calibration": str(tmp_path / "s.json")}) != cache_key(clip, {})
    assert cache_key(clip, {"fps": 6}) != cache_key(clip, {"fps": 4})
    old = json.loads(calibration_path().read_text()) | {"version": CALIBRATION_VERSION - 1}
    (tmp_path / "old.json").write_text(json.dumps(old))
    with pytest.raises(CamReasonerError, match="bad observer calibration: version") as err:
        observer_identity(tmp_path / "old.json")
    assert "\n" not in str(err.value)
