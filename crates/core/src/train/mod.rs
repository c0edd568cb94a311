//! The training loop shared by every task.
