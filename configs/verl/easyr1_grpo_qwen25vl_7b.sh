#!/bin/bash
# GRPO of Qwen2.5-VL-7B with EasyR1 (the verl fork CamReasoner trained with), on camreasoner's
# EasyR1 export, with CamReasoner's online filtering (drop groups whose accuracy is outside
# [0.01, 0.99]) and camreasoner's batch reward (0.9 accuracy + 0.1 strict O-T-A format).
# Hardware: 1 node, 8x 80 GB GPUs (H100/A100). Run from an EasyR1 checkout with camreasoner
# installed; not run in camreasoner's CI (no GPU).
#   CAMREASONER=/path/to/camreasoner SUITE=/path/to/data/suite bash easyr1_grpo_qwen25vl_7b.sh
set -euo pipefail
CAMREASONER=${CAMREASONER:?path to the camreasoner checkout}
SUITE=${SUITE:-$CAMREASONER/data/suite}
MODEL=${MODEL:-$CAMREASONER/runs/qwen25vl_7b_sft/final}
python3 -m verl.trainer.main \
  config=examples/config.yaml \
  data.train_files="$SUITE/easyr1/rl/train.json" \
  data.val_files="$SUITE/easyr1/rl/validation.json" \
  data.prompt_key=prompt \
  data.answer_key=answer \
  data.video_key=videos \
  data.rollout_batch_size=128 \
  data.max_response_length=1024 \
  worker.actor.model.model_path="$MODEL" \
  worker.actor.optim.lr=1.0e-6 \
  worker.rollout.n=8 \
  worker.rollout.temperature=1.0 \
  worker.reward.reward_type=batch \
  worker.reward.reward_function="$CAMREASONER/src/camreasoner/verl_reward.py:compute_score_batch" \
  algorithm.kl_coef=1.0e-2 \
  algorithm.online_filtering=true \
  algorithm.filter_key=accuracy \
  algorithm.filter_low=0.01 \
  algorithm.filter_high=0.99 \
  trainer.experiment_name=camreasoner_qwen25vl_7b_grpo \
  trainer.n_gpus_per_node=8 "$@"
