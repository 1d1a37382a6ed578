"""Shot boundaries with PySceneDetect's AdaptiveDetector (the PyAV backend, downscaled frames)."""

from __future__ import annotations

from dataclasses import dataclass

from camreasoner.core.errors import CamReasonerError


@dataclass(frozen=True)
class Shot:
    """One shot: seconds and source frame numbers (``end_frame`` exclusive)."""

    start: float
    end: float
    start_frame: int
    end_frame: int


def detect_shots(path: str, duration: float, fps: float, min_shot: float, threshold: float) -> list[Shot]:
    """The shots of ``path`` (one shot covering it all when no cut is found)."""
    from scenedetect import AdaptiveDetector, SceneManager
    from scenedetect import open_video as sd_open

    try:
        video = sd_open(path, backend="pyav")
    except Exception as exc:  # PySceneDetect wraps FFmpeg errors in several types
        raise CamReasonerError(f"{path}: shot detection cannot open the video ({type(exc).__name__})") from None
    manager = SceneManager()
    manager.auto_downscale = True
    min_len = max(1, round(min_shot * fps))
    manager.add_detector(AdaptiveDetector(adaptive_threshold=threshold, min_scene_len=min_len))
    manager.detect_scenes(video=video)
    scenes = manager.get_scene_list(start_in_scene=True)
    n_frames = max(1, round(duration * fps))
    if not scenes:
        return [Shot(0.0, round(duration, 4), 0, n_frames)]
    spans: list[list[int]] = []
    for a, b in scenes:
        fa, fb = int(a.frame_num), int(b.frame_num)
        if spans and fb - fa < min_len:
            spans[-1][1] = fb  # a short tail (PySceneDetect's minimum does not cover it) joins its neighbour
        else:
            spans.append([fa, fb])
    if len(spans) > 1 and spans[0][1] - spans[0][0] < min_len:
        spans[1][0] = spans.pop(0)[0]
    return [Shot(round(fa / fps, 4), round(fb / fps, 4), fa, fb) for fa, fb in spans]
