//! Tokenization over the Hugging Face `tokenizers` crate.
