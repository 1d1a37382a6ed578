"""Label a whole video library: per shot, the 15 primitives, a motion timeline, Open-Sora's ``cmotion``.

Public API: ``run_label(inputs, out, options) -> LabelResult`` (``camreasoner label``) and
``write_gallery(out)`` (``camreasoner view``).
"""

from camreasoner.label.options import LabelOptions
from camreasoner.label.run import LabelResult, run_label

__all__ = ["LabelOptions", "LabelResult", "run_label"]
