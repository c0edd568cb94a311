//! Math-Shepherd: automatic process annotation, process reward models, best-of-N verification and step-level PPO.
