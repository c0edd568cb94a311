//! Transformer NMT with masked label smoothing over a shared vocabulary (BLEU, calibration).
