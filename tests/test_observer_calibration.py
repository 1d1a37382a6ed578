"""The observer's calibration and ranking files: versioned, schema checked on load, one-line errors."""

import json

import pytest

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.observer.ranking import RANKING_VERSION, load_ranking, ranking_path
from camreasoner.observer.scoring import CALIBRATION_VERSION, check_calibration, load_calibration


def shipped() -> dict:
    from pathlib import Path

    import camreasoner.observer.scoring as scoring

    path = Path(scoring.__file__).parents[1] / "data" / scoring.CALIBRATION_FILE
    return json.loads(path.read_text(encoding="utf-8"))


def test_shipped_calibration_is_versioned_and_valid():
    data = shipped()
    assert data["version"] == CALIBRATION_VERSION
    assert set(load_calibration()) >= set(PRIMITIVES)


def broken(kind: str) -> object:
    data = shipped()
    if kind == "version":
        data["version"] = CALIBRATION_VERSION + 1
    elif kind == "no_version":
        del data["version"]
    elif kind == "missing":
        del data["primitives"]["Pan_Left"]
    elif kind == "unit":
        data["primitives"]["Zoom_In"]["unit"] = 0
    elif kind == "a":
        data["primitives"]["Static"]["a"] = "big"
    elif kind == "context":
        data["primitives"]["Move_Left"]["context"] = data["primitives"]["Move_Left"]["context"][:-1]
    elif kind == "prior":
        data["primitives"]["Tilt_Up"]["prior"] = 1.0
    elif kind == "list":
        data = [data]
    return data


def broken_ranking(kind: str) -> object:
    data = json.loads(ranking_path().read_text(encoding="utf-8"))
    tree = data["forests"]["pedestal"]["trees"][0]
    if kind == "version":
        data["version"] = RANKING_VERSION + 1
    elif kind == "axis":
        del data["forests"]["truck"]
    elif kind == "features":
        data["forests"]["dolly"]["features"] = data["forests"]["dolly"]["features"][:-1]
    elif kind == "baseline":
        data["forests"]["dolly"]["baseline"] = None
    elif kind == "lengths":
        tree["value"].pop()
    elif kind == "loop":  # a child pointing back would walk forever
        tree["left"][0] = 0
    elif kind == "feature_index":
        tree["feature"][0] = 99
    elif kind == "list":
        data = [data]
    return data


CALIBRATION, RANKING = (broken, load_calibration), (broken_ranking, load_ranking)


@pytest.mark.parametrize("file, kind, words", [
    (CALIBRATION, "version", "version"), (CALIBRATION, "no_version", "version"), (CALIBRATION, "missing", "Pan_Left"),
    (CALIBRATION, "unit", "Zoom_In.unit"), (CALIBRATION, "a", "Static.a"), (CALIBRATION, "context", "Move_Left.context"),
    (CALIBRATION, "list", "top level"), (CALIBRATION, "prior", "Tilt_Up.prior"),
    (RANKING, "version", "version"), (RANKING, "axis", "truck axis"), (RANKING, "features", "dolly.features"),
    (RANKING, "baseline", "dolly.baseline"), (RANKING, "lengths", "pedestal.trees[0]"),
    (RANKING, "loop", "point forward"), (RANKING, "feature_index", "feature must be an index"),
    (RANKING, "list", "top level"),
])
def test_schema_errors_are_one_line_naming_the_file(tmp_path, file, kind, words):
    make, load = file
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(make(kind)), encoding="utf-8")
    with pytest.raises(CamReasonerError) as err:
        load(str(path))
    message = str(err.value)
    assert "\n" not in message and str(path) in message and words in message


@pytest.mark.parametrize("load", [load_calibration, load_ranking])
def test_not_json_and_missing_file_are_one_line(tmp_path, load):
    path = tmp_path / "doc.json"
    path.write_text("{not json", encoding="utf-8")
    for target in (path, tmp_path / "absent.json"):
        with pytest.raises(CamReasonerError) as err:
            load(str(target))
        assert "\n" not in str(err.value) and str(target) in str(err.value)


def test_a_valid_document_returns_its_table():
    data = shipped()
    assert check_calibration(data, "x.json") is data["primitives"]


def test_opposite_primitives_share_their_calibration():
    from camreasoner.core.taxonomy import OPPOSITES

    table = shipped()["primitives"]
    for p, q in OPPOSITES.items():
        assert table[p] == table[q], (p, q)
