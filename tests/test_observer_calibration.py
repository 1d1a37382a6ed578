"""The observer's calibration file: versioned, schema checked on load, one-line errors."""

import json

import pytest

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
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


@pytest.mark.parametrize("kind, words", [
    ("version", "version"), ("no_version", "version"), ("missing", "Pan_Left"), ("unit", "Zoom_In.unit"),
    ("a", "Static.a"), ("context", "Move_Left.context"), ("list", "top level"), ("prior", "Tilt_Up.prior"),
])
def test_schema_errors_are_one_line_naming_the_file(tmp_path, kind, words):
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(broken(kind)), encoding="utf-8")
    with pytest.raises(CamReasonerError) as err:
        load_calibration(str(path))
    message = str(err.value)
    assert "\n" not in message and str(path) in message and words in message


def test_not_json_and_missing_file_are_one_line(tmp_path):
    path = tmp_path / "cal.json"
    path.write_text("{not json", encoding="utf-8")
    for target in (path, tmp_path / "absent.json"):
        with pytest.raises(CamReasonerError) as err:
            load_calibration(str(target))
        assert "\n" not in str(err.value) and str(target) in str(err.value)


def test_a_valid_document_returns_its_table():
    data = shipped()
    assert check_calibration(data, "x.json") is data["primitives"]


def test_opposite_primitives_share_their_calibration():
    from camreasoner.core.taxonomy import OPPOSITES

    table = shipped()["primitives"]
    for p, q in OPPOSITES.items():
        assert table[p] == table[q], (p, q)
