//! A trained run loaded back from its directory ([`TrainedRun`]) to parse targets.

use std::collections::BTreeSet;
use std::path::Path;

use burnlp_core::burn::tensor::Device;
use burnlp_core::data::read_json_document;
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{RunDir, load_parameters};

use crate::conll::Instance;
use crate::error::{FrameParseError, Result};
use crate::fkg::FrameGraph;
use crate::lexicon::Lexicon;
use crate::model::Kid;
use crate::train::{
    MAX_SUBWORDS, MODEL_JSON, ModelFile, Prepared, TOKENIZER_FILE, Vocabulary, parse_examples,
};

/// The best model of a run directory with what it needs to predict.
#[derive(Debug)]
pub struct TrainedRun {
    model: Kid,
    prepared: Prepared,
    file: ModelFile,
    device: Device,
}

impl TrainedRun {
    /// Loads the best checkpoint of the run in `dir` onto `device`; `lexicon` must hold the
    /// run's frames.
    pub fn load(dir: &Path, lexicon: &Lexicon, device: &Device) -> Result<Self> {
        let file: ModelFile = read_json_document(dir.join(MODEL_JSON))?;
        let keep: BTreeSet<String> = file.frames.iter().cloned().collect();
        if let Some(missing) = keep.iter().find(|f| lexicon.frame(f).is_none()) {
            return Err(FrameParseError::invalid(
                dir.join(MODEL_JSON).display().to_string(),
                format!("the run's frame `{missing}` is not in the lexicon"),
            ));
        }
        let graph = FrameGraph::build(lexicon, Some(&keep))?;
        let vocabulary = match &file.kid.bert {
            Some(_) => Vocabulary::Subwords(Box::new(
                Tokenizer::from_file(dir.join(TOKENIZER_FILE))?
                    .with_max_length(Some(MAX_SUBWORDS))?,
            )),
            None => Vocabulary::Words(
                file.words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (w.clone(), i as u32))
                    .collect(),
            ),
        };
        let bert = file.kid.bert.as_ref().map(|c| c.init(device));
        let model = load_parameters(file.kid.init(bert, device), &RunDir::new(dir).best_model())?;
        Ok(Self {
            model,
            prepared: Prepared {
                graph,
                candidates: file.candidates.clone(),
                vocabulary,
                max_len: file.max_len,
            },
            file,
            device: device.clone(),
        })
    }

    /// Parses every target of `instances` (frames predicted, or the gold frames with
    /// `gold_frames`) and returns them as annotated instances.
    pub fn predict(&self, instances: &[Instance], gold_frames: bool) -> Result<Vec<Instance>> {
        let (examples, kept, _) = self.prepared.examples(instances, false, 0, usize::MAX)?;
        debug_assert_eq!(kept.len(), instances.len());
        if let Some(i) = examples
            .iter()
            .position(|e| gold_frames && e.frame.is_none())
        {
            {
                return Err(FrameParseError::invalid(
                    format!("target at line {}", instances[i].line),
                    format!(
                        "gold frame `{}` is not among the run's frames",
                        instances[i].frame
                    ),
                ));
            }
        }
        let graph = self.prepared.graph.tensors(&self.device)?;
        let parses = parse_examples(
            &self.model,
            &self.prepared,
            &graph,
            &examples,
            self.file.max_steps,
            gold_frames,
            &self.device,
        );
        Ok(self.prepared.to_instances(instances, &parses))
    }

    /// LUs of `instances` that the run's candidate map does not know (their frame is chosen
    /// among all frames).
    pub fn unseen_lus(&self, instances: &[Instance]) -> Vec<String> {
        self.prepared.candidates.coverage(instances).unseen_lus
    }
}
