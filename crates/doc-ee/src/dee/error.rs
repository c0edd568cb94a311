//! Errors of the Doc2EDAG-format readers, validation, conversion and scoring: every variant
//! names the file and the document (guid) or line, and the field.

use std::path::PathBuf;

/// A `[sentence, start, end)` character range as the data stores it.
pub type Drange = [usize; 3];

/// Problems with Doc2EDAG-format and DuEE-fin files.
#[derive(Debug, thiserror::Error)]
pub enum DeeError {
    /// A file could not be read.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error(transparent)]
    Write(#[from] burnlp_core::data::DataError),
    /// A file is not JSON (the source error gives line and column).
    #[error("`{}` is not valid JSON", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A file holds no documents (`[]`).
    #[error("`{}` holds no documents", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A document's field has the wrong shape or misses an entry.
    #[error("`{}` document `{doc}` field `{field}`: {problem}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The document guid (or `#index` when the guid itself is unreadable).
        doc: String,
        /// The field (`sentences`, `ann_mspan2dranges`, …).
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A mention range points outside the sentences.
    #[error(transparent)]
    DrangeOutOfRange(Box<OutOfRange>),
    /// A mention range covers other text than its span.
    #[error("`{}` document `{doc}` field `ann_mspan2dranges`: range {drange:?} of `{span}` covers `{found}`", path.display())]
    SpanMismatch {
        /// The file.
        path: PathBuf,
        /// The document guid.
        doc: String,
        /// The span text.
        span: String,
        /// The range.
        drange: Drange,
        /// The text the range covers.
        found: Box<str>,
    },
    /// A record names an event type outside the schema.
    #[error("`{}` document `{doc}` field `recguid_eventname_eventdict_list`: unknown event type `{event_type}` (schema {schema})", path.display())]
    UnknownEventType {
        /// The file.
        path: PathBuf,
        /// The document guid.
        doc: String,
        /// The event type.
        event_type: String,
        /// The schema's name.
        schema: &'static str,
    },
    /// A record fills a role its event type does not have.
    #[error("`{}` document `{doc}` field `recguid_eventname_eventdict_list`: {event_type} has no role `{role}`", path.display())]
    UnknownRole {
        /// The file.
        path: PathBuf,
        /// The document guid.
        doc: String,
        /// The record's event type.
        event_type: String,
        /// The unknown role.
        role: String,
    },
    /// A record argument is not one of the document's annotated spans.
    #[error("`{}` document `{doc}` field `recguid_eventname_eventdict_list`: {event_type}.{role} = `{span}` is not in `ann_valid_mspans`", path.display())]
    UnannotatedArgument {
        /// The file.
        path: PathBuf,
        /// The document guid.
        doc: String,
        /// The record's event type.
        event_type: &'static str,
        /// The role.
        role: &'static str,
        /// The argument text.
        span: String,
    },
    /// Two documents share a guid.
    #[error("`{}`: document `{doc}` appears twice", path.display())]
    DuplicateDocument {
        /// The file.
        path: PathBuf,
        /// The guid.
        doc: String,
    },
    /// A line of a JSON Lines file (DuEE-fin) is malformed.
    #[error("`{}` line {line} field `{field}`: {problem}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The field (`id`, `text`, `event_list[0].arguments[1].role`, …).
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// The character vocabulary cannot be loaded.
    #[error("cannot load the character vocabulary `{}`: {problem}", path.display())]
    Vocab {
        /// The tokenizer directory or file.
        path: PathBuf,
        /// Why.
        problem: String,
    },
}

/// A mention range outside the sentences (boxed in [`DeeError::DrangeOutOfRange`]).
#[derive(Debug, thiserror::Error)]
#[error("`{}` document `{doc}` field `{field}`: range {drange:?} of `{span}` {problem}", path.display())]
pub struct OutOfRange {
    /// The file.
    pub path: PathBuf,
    /// The document guid.
    pub doc: String,
    /// The field holding the range.
    pub field: String,
    /// The span text the range belongs to (empty in `ann_valid_dranges`).
    pub span: String,
    /// The range.
    pub drange: Drange,
    /// Why it is out of range.
    pub problem: String,
}

/// The result type of the Doc2EDAG modules.
pub type Result<T, E = DeeError> = std::result::Result<T, E>;
