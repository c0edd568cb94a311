//! ESFT: expert-specialized fine-tuning of Mixture-of-Experts LMs, with routing analysis and LoRA / full fine-tuning baselines.
