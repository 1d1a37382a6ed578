"""Training: SFT and GRPO on O-T-A chains over video (TRL), recipes and data loading.

Heavy dependencies (torch, transformers, TRL, PEFT) are imported by the submodules that need them.
"""
