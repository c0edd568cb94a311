//! newsbot integration tests: tables and located errors, the template store, generation with
//! provenance, the fact checker on hand-written reports and on the shared task, summaries,
//! translation (mock endpoint, tiny mls-nmt model), the web app and its browser check, speech and
//! the demo.

mod accuracy;
mod chain;
mod check;
mod common;
mod generate;
mod serve;
mod speech;
mod summarize;
mod table;
mod translate;
