#!/bin/bash
# GRPO of Qwen2.5-VL-7B with verl on camreasoner's verl export and reward.
# Hardware: 1 node, 8x 80 GB GPUs (H100/A100); vLLM rollouts; FSDP actor. For N nodes start a Ray
# cluster (ray start --head / --address) and set NNODES=N. Not run in camreasoner's CI (no GPU).
#   camreasoner suite build ... --out data/suite        # writes data/suite/verl/{train,validation}.parquet
#   bash configs/verl/verl_grpo_qwen25vl_7b.sh
# The verl export has: data_source, prompt (chat with a <video> placeholder), videos, ability,
# reward_model.ground_truth (the letter) and extra_info (options, measured, ...), which
# src/camreasoner/verl_reward.py:compute_score reads: 0.9 accuracy + 0.1 strict O-T-A format.
set -euo pipefail
SUITE=${SUITE:-data/suite}
MODEL=${MODEL:-runs/qwen25vl_7b_sft/final}
NNODES=${NNODES:-1}
python3 -m verl.trainer.main_ppo \
  algorithm.adv_estimator=grpo \
  algorithm.use_kl_in_reward=False \
  data.train_files="$SUITE/verl/train.parquet" \
  data.val_files="$SUITE/verl/validation.parquet" \
  data.prompt_key=prompt \
  data.video_key=videos \
  data.train_batch_size=128 \
  data.max_prompt_length=4096 \
  data.max_response_length=1024 \
  data.filter_overlong_prompts=True \
  actor_rollout_ref.model.path="$MODEL" \
  actor_rollout_ref.model.use_remove_padding=True \
  actor_rollout_ref.model.enable_gradient_checkpointing=True \
  actor_rollout_ref.actor.optim.lr=1e-6 \
  actor_rollout_ref.actor.ppo_mini_batch_size=64 \
  actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2 \
  actor_rollout_ref.actor.use_kl_loss=True \
  actor_rollout_ref.actor.kl_loss_coef=0.01 \
  actor_rollout_ref.actor.kl_loss_type=low_var_kl \
  actor_rollout_ref.actor.fsdp_config.param_offload=False \
  actor_rollout_ref.actor.fsdp_config.optimizer_offload=False \
  actor_rollout_ref.rollout.name=vllm \
  actor_rollout_ref.rollout.n=8 \
  actor_rollout_ref.rollout.temperature=1.0 \
  actor_rollout_ref.rollout.tensor_model_parallel_size=1 \
  actor_rollout_ref.rollout.gpu_memory_utilization=0.5 \
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=4 \
  actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=4 \
  actor_rollout_ref.ref.fsdp_config.param_offload=True \
  custom_reward_function.path=src/camreasoner/verl_reward.py \
  custom_reward_function.name=compute_score \
  trainer.logger='["console","tensorboard"]' \
  trainer.project_name=camreasoner \
  trainer.experiment_name=qwen25vl_7b_grpo_verl \
  trainer.n_gpus_per_node=8 \
  trainer.nnodes="$NNODES" \
  trainer.save_freq=50 \
  trainer.test_freq=50 \
  trainer.total_epochs=1 "$@"
