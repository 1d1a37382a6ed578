"""The Inference Trajectory Suite: SFT chains and RL samples built from labelled clips.

One module per job: ``measure`` (observer readings, cached), ``augment`` (new clips, exact labels),
``chains`` (grounded O-T-A chains), ``teacher`` (rejection sampling), ``rl`` (difficulty),
``splits``, ``exports``, ``card`` and ``build`` (the orchestration behind ``camreasoner suite build``).
"""
