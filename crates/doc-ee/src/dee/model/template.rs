//! IPGPF's event templates (spec C.3): one Chinese sentence per event type whose role slots
//! the parallel decoder fills. A slot is written `#{Role}` in the text; the slot order is the
//! order of the slots in the text (the reference code's `template_roles`), independent of the
//! schema's role order.
//!
//! The ChFinAnn sentences below are written for this crate (the reference `template.py` is
//! not reproduced); other schemas get a generic template `事件：Role#，Role#，…` in the schema's
//! role order. Unlike the reference, templates are not padded with `*` to 128 characters: each
//! event type is decoded on its own, so no padding (and no key-padding mask) is needed.

use serde::{Deserialize, Serialize};

use super::input::{CharTable, UNK};
use crate::dee::schema::{DatasetSchema, EventSchema};

/// The hand-written ChFinAnn templates, by event type.
const CHFINANN_TEMPLATES: &[(&str, &str)] = &[
    (
        "EquityFreeze",
        "股权冻结：#{EquityHolder}所持#{FrozeShares}股份被#{LegalInstitution}冻结，\
         其共持有#{TotalHoldingShares}股，占总股本#{TotalHoldingRatio}，\
         冻结期自#{StartDate}至#{EndDate}，于#{UnfrozeDate}解冻。",
    ),
    (
        "EquityRepurchase",
        "股份回购：#{CompanyName}截至#{ClosingDate}回购#{RepurchasedShares}股，\
         最高价#{HighestTradingPrice}，最低价#{LowestTradingPrice}，总金额#{RepurchaseAmount}。",
    ),
    (
        "EquityUnderweight",
        "股东减持：#{EquityHolder}自#{StartDate}至#{EndDate}减持#{TradedShares}股，\
         均价#{AveragePrice}，减持后持有#{LaterHoldingShares}股。",
    ),
    (
        "EquityOverweight",
        "股东增持：#{EquityHolder}自#{StartDate}至#{EndDate}增持#{TradedShares}股，\
         均价#{AveragePrice}，增持后持有#{LaterHoldingShares}股。",
    ),
    (
        "EquityPledge",
        "股权质押：在#{ReleasedDate}，#{Pledger}质押给或解除质押#{Pledgee}共#{PledgedShares}股份，\
         质押期自#{StartDate}至#{EndDate}，其共持有#{TotalHoldingShares}股，\
         占总股本#{TotalHoldingRatio}，累计质押#{TotalPledgedShares}股。",
    ),
];

/// The template text of `event` in `schema`: the hand-written one for ChFinAnn, else the
/// generic `事件：Role#，…` in role order.
pub fn template_text(schema: &DatasetSchema, event: &EventSchema) -> String {
    if schema.name == "ChFinAnn"
        && let Some((_, text)) = CHFINANN_TEMPLATES.iter().find(|(n, _)| *n == event.name)
    {
        return (*text).to_string();
    }
    let mut text = format!("{}：", event.name);
    for (k, role) in event.roles.iter().enumerate() {
        if k > 0 {
            text.push('，');
        }
        text.push_str(&format!("{role}#{{{role}}}"));
    }
    text.push('。');
    text
}

/// A template as model input: character ids with the slot positions marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// Character ids; a slot position holds [`UNK`] (its row is replaced before decoding).
    pub ids: Vec<u32>,
    /// `(position in ids, role index in the schema's order)`, in slot order.
    pub slots: Vec<(usize, usize)>,
}

/// Why a template text cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `#{` without a closing `}`.
    #[error("template of {event}: unclosed slot at character {at}")]
    Unclosed {
        /// The event type.
        event: String,
        /// Character offset of the `#`.
        at: usize,
    },
    /// A slot names no role of the event.
    #[error("template of {event}: slot #{{{role}}} is not a role of the event")]
    UnknownRole {
        /// The event type.
        event: String,
        /// The slot's name.
        role: String,
    },
    /// A role has no slot, or more than one.
    #[error("template of {event}: role {role} has {count} slots (needs exactly 1)")]
    SlotCount {
        /// The event type.
        event: String,
        /// The role.
        role: String,
        /// How many slots name it.
        count: usize,
    },
}

impl Template {
    /// Parses `text` for `event`, mapping characters through `table`: every role needs exactly
    /// one `#{Role}` slot.
    pub fn parse(
        text: &str,
        event: &EventSchema,
        table: &CharTable,
    ) -> Result<Self, TemplateError> {
        let chars: Vec<char> = text.chars().collect();
        let mut ids = Vec::new();
        let mut slots = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '#' && chars.get(i + 1) == Some(&'{') {
                let close = chars[i + 2..]
                    .iter()
                    .position(|&c| c == '}')
                    .ok_or_else(|| TemplateError::Unclosed {
                        event: event.name.to_string(),
                        at: i,
                    })?;
                let role: String = chars[i + 2..i + 2 + close].iter().collect();
                let r = event
                    .role_index(&role)
                    .ok_or_else(|| TemplateError::UnknownRole {
                        event: event.name.to_string(),
                        role: role.clone(),
                    })?;
                slots.push((ids.len(), r));
                ids.push(UNK);
                i += close + 3;
            } else {
                ids.push(table.id(chars[i]));
                i += 1;
            }
        }
        for (r, role) in event.roles.iter().enumerate() {
            let count = slots.iter().filter(|s| s.1 == r).count();
            if count != 1 {
                return Err(TemplateError::SlotCount {
                    event: event.name.to_string(),
                    role: (*role).to_string(),
                    count,
                });
            }
        }
        Ok(Self { ids, slots })
    }

    /// Bare slots, one per role in order (what a model configured without templates uses).
    pub fn bare(roles: usize) -> Self {
        Self {
            ids: vec![UNK; roles.max(1)],
            slots: (0..roles).map(|r| (r, r)).collect(),
        }
    }
}

/// The templates of every event type of `schema` through `table`.
pub fn schema_templates(
    schema: &DatasetSchema,
    table: &CharTable,
) -> Result<Vec<Template>, TemplateError> {
    schema
        .events
        .iter()
        .map(|e| Template::parse(&template_text(schema, e), e, table))
        .collect()
}
