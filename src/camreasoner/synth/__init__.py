"""Synthetic camera-motion videos with exact labels (``camreasoner synth``)."""

from camreasoner.synth.dataset import SynthOptions, SynthResult, generate_dataset, synthesize_clip

__all__ = ["SynthOptions", "SynthResult", "generate_dataset", "synthesize_clip"]
