"""The CamReasoner model path: a tiny Qwen2.5-VL for tests, prompts, video inputs, loading, scoring, hints.

Heavy dependencies (torch, transformers) are imported by the submodules that need them, not here.
"""
