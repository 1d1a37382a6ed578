"""Pure geometric functions on arrays: tracks, robust global motion models, parallax, cues.

Each function takes NumPy arrays and returns arrays or small dataclasses; no state, no I/O, no torch.
Camera axes: x right, y down, z forward (conventions.md).
"""

from camreasoner.observer.geometry.cues import (
    ClipCues,
    ClipOptions,
    integrate_pairs,
    integrate_windows,
    is_local,
    merge_chains,
)
from camreasoner.observer.geometry.layers import LayerOptions, Layers, motion_layers
from camreasoner.observer.geometry.lens import LensFit, LensOptions, estimate_lens, undistort
from camreasoner.observer.geometry.models import (
    PairMotion,
    PairOptions,
    estimate_pair,
    explained_motion,
    intrinsics,
)
from camreasoner.observer.geometry.overlays import (
    OverlayOptions,
    SceneTracks,
    fixed_on_frame,
    frame_bars,
    scene_tracks,
)
from camreasoner.observer.geometry.tracks import track_points

__all__ = ["ClipCues", "ClipOptions", "LayerOptions", "Layers", "LensFit", "LensOptions", "OverlayOptions",
           "PairMotion", "PairOptions", "SceneTracks", "estimate_lens", "estimate_pair", "explained_motion",
           "fixed_on_frame", "frame_bars", "integrate_pairs", "integrate_windows", "intrinsics", "is_local",
           "merge_chains", "motion_layers", "scene_tracks", "track_points", "undistort"]
