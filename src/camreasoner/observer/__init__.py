"""The geometric observer: camera motion from point tracks, calibrated per-primitive scores, O-T-A text.

Public API: ``analyze_video(path, options) -> Reading`` (``analyze_shots``: the same, shot by shot in one
decode) and ``answer_question(reading, question, options)``.
"""

from camreasoner.observer.answer import answer_question
from camreasoner.observer.reading import (
    ObserverOptions,
    Reading,
    ShotReading,
    analyze_shots,
    analyze_video,
)

__all__ = ["ObserverOptions", "Reading", "ShotReading", "analyze_shots", "analyze_video", "answer_question"]
