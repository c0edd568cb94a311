//! Neural network modules shared by tasks.
