//! ESD span-based few-shot sequence labeling (Few-NERD, SNIPS episodes).
