//! Event schemas of the Doc2EDAG-format data sets and the character-level BIO label set.
//!
//! - ChFinAnn: the five event types of Doc2EDAG's `dee/event_type.py` (dolphin-zs/Doc2EDAG,
//!   repeated in RunxinXu/GIT and as `zheng2019` in Spico197/DocEE), roles in the fixed EDAG
//!   order, the key roles and `is_good_candidate`'s minimum count of filled roles.
//! - DuEE-fin: the 13 event types as DocEE's `dee/event_types/dueefin_wo_tgg.py` lists them
//!   (the template IPGPF's `event_type.py` adapts). The spec (Part C.1) names every type and
//!   its role count but gives the role lists only partly, so the lists and their order come
//!   from that file. DocEE's key-field ("trigger") sets are not carried over: no key roles.
//!
//! The NER labels follow `DEEExample.get_entity_label_list`: `O`, then `B-`/`I-` for each field
//! the first time it is seen, the common fields first (ChFinAnn: StockCode, StockAbbr,
//! CompanyName; DuEE-fin: OtherType), then every event's roles in order. ChFinAnn gets 49.

/// One event type: its name, roles in the fixed order, key roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSchema {
    /// The event type name as the data spells it.
    pub name: &'static str,
    /// Roles (fields) in the fixed EDAG order.
    pub roles: &'static [&'static str],
    /// Roles a "good candidate" record must fill (Doc2EDAG's `KEY_FIELDS`).
    pub key_roles: &'static [&'static str],
    /// Minimum count of filled roles of a good candidate (`is_good_candidate`'s default).
    pub min_filled: usize,
}

impl EventSchema {
    /// The index of `role`, if it is one of this event's roles.
    pub fn role_index(&self, role: &str) -> Option<usize> {
        self.roles.iter().position(|r| *r == role)
    }

    /// Whether a record (arguments in role order) has every key role and at least
    /// `min_filled` arguments (Doc2EDAG's `is_good_candidate`).
    pub fn is_good_candidate<T>(&self, args: &[Option<T>]) -> bool {
        let keys = self.key_roles.iter().all(|k| {
            self.role_index(k)
                .is_some_and(|i| args.get(i).is_some_and(Option::is_some))
        });
        keys && args.iter().filter(|a| a.is_some()).count() >= self.min_filled
    }
}

/// A data set's event schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasetSchema {
    /// The data set's name.
    pub name: &'static str,
    /// Fields labelled by the NER tagger before any event role (`common_fields`).
    pub common_fields: &'static [&'static str],
    /// Event types in the fixed order.
    pub events: &'static [EventSchema],
}

const EU_EO_ROLES: &[&str] = &[
    "EquityHolder",
    "TradedShares",
    "StartDate",
    "EndDate",
    "LaterHoldingShares",
    "AveragePrice",
];

/// ChFinAnn (Doc2EDAG `event_type.py`).
pub const CHFINANN: DatasetSchema = DatasetSchema {
    name: "ChFinAnn",
    common_fields: &["StockCode", "StockAbbr", "CompanyName"],
    events: &[
        EventSchema {
            name: "EquityFreeze",
            roles: &[
                "EquityHolder",
                "FrozeShares",
                "LegalInstitution",
                "TotalHoldingShares",
                "TotalHoldingRatio",
                "StartDate",
                "EndDate",
                "UnfrozeDate",
            ],
            key_roles: &["EquityHolder", "FrozeShares", "LegalInstitution"],
            min_filled: 5,
        },
        EventSchema {
            name: "EquityRepurchase",
            roles: &[
                "CompanyName",
                "HighestTradingPrice",
                "LowestTradingPrice",
                "RepurchasedShares",
                "ClosingDate",
                "RepurchaseAmount",
            ],
            key_roles: &["CompanyName"],
            min_filled: 4,
        },
        EventSchema {
            name: "EquityUnderweight",
            roles: EU_EO_ROLES,
            key_roles: &["EquityHolder", "TradedShares"],
            min_filled: 4,
        },
        EventSchema {
            name: "EquityOverweight",
            roles: EU_EO_ROLES,
            key_roles: &["EquityHolder", "TradedShares"],
            min_filled: 4,
        },
        EventSchema {
            name: "EquityPledge",
            roles: &[
                "Pledger",
                "PledgedShares",
                "Pledgee",
                "TotalHoldingShares",
                "TotalHoldingRatio",
                "TotalPledgedShares",
                "StartDate",
                "EndDate",
                "ReleasedDate",
            ],
            key_roles: &["Pledger", "PledgedShares", "Pledgee"],
            min_filled: 5,
        },
    ],
};

const PLEDGE_ROLES: &[&str] = &[
    "质押物占总股比",
    "质权方",
    "质押方",
    "事件时间",
    "质押股票/股份数量",
    "质押物所属公司",
    "质押物",
    "质押物占持股比",
    "披露时间",
];

const fn duee(name: &'static str, roles: &'static [&'static str]) -> EventSchema {
    EventSchema {
        name,
        roles,
        key_roles: &[],
        min_filled: 2,
    }
}

/// DuEE-fin without triggers (DocEE `dueefin_wo_tgg.py`; `min_fields_num` 2).
pub const DUEE_FIN: DatasetSchema = DatasetSchema {
    name: "DuEE-fin",
    common_fields: &["OtherType"],
    events: &[
        duee("质押", PLEDGE_ROLES),
        duee(
            "股份回购",
            &[
                "每股交易价格",
                "交易金额",
                "回购完成时间",
                "回购股份数量",
                "占公司总股本比例",
                "回购方",
                "披露时间",
            ],
        ),
        duee(
            "解除质押",
            &[
                "质权方",
                "质押物占总股比",
                "质押方",
                "事件时间",
                "质押股票/股份数量",
                "质押物所属公司",
                "质押物",
                "质押物占持股比",
                "披露时间",
            ],
        ),
        duee(
            "被约谈",
            &["约谈机构", "被约谈时间", "披露时间", "公司名称"],
        ),
        duee(
            "企业收购",
            &[
                "被收购方",
                "收购标的",
                "交易金额",
                "收购方",
                "收购完成时间",
                "披露时间",
            ],
        ),
        duee(
            "股东增持",
            &[
                "每股交易价格",
                "交易金额",
                "增持部分占所持比例",
                "交易完成时间",
                "增持方",
                "交易股票/股份数量",
                "增持部分占总股本比例",
                "股票简称",
                "披露时间",
            ],
        ),
        duee(
            "高管变动",
            &[
                "变动后职位",
                "任职公司",
                "高管姓名",
                "披露日期",
                "变动类型",
                "事件时间",
                "高管职位",
                "变动后公司名称",
            ],
        ),
        duee(
            "中标",
            &[
                "中标金额",
                "披露日期",
                "招标方",
                "中标日期",
                "中标标的",
                "中标公司",
            ],
        ),
        duee(
            "公司上市",
            &[
                "募资金额",
                "事件时间",
                "证券代码",
                "环节",
                "发行价格",
                "上市公司",
                "披露时间",
                "市值",
            ],
        ),
        duee(
            "企业融资",
            &[
                "融资金额",
                "事件时间",
                "被投资方",
                "领投方",
                "融资轮次",
                "披露时间",
                "投资方",
            ],
        ),
        duee(
            "亏损",
            &["亏损变化", "财报周期", "净亏损", "披露时间", "公司名称"],
        ),
        duee(
            "股东减持",
            &[
                "减持方",
                "每股交易价格",
                "交易金额",
                "减持部分占所持比例",
                "交易完成时间",
                "交易股票/股份数量",
                "减持部分占总股本比例",
                "股票简称",
                "披露时间",
            ],
        ),
        duee(
            "企业破产",
            &["债务规模", "破产公司", "债权人", "破产时间", "披露时间"],
        ),
    ],
};

impl DatasetSchema {
    /// The event type named `name` with its index in the fixed order.
    pub fn event(&self, name: &str) -> Option<(usize, &'static EventSchema)> {
        self.events.iter().enumerate().find(|(_, e)| e.name == name)
    }

    /// The unique entity fields in label order: the common fields, then every event's roles
    /// the first time they appear.
    pub fn entity_fields(&self) -> Vec<&'static str> {
        let mut fields: Vec<&'static str> = Vec::new();
        let all = self
            .common_fields
            .iter()
            .chain(self.events.iter().flat_map(|e| e.roles.iter()));
        for f in all {
            if !fields.contains(f) {
                fields.push(f);
            }
        }
        fields
    }

    /// The character-level BIO labels: `O`, then `B-F`, `I-F` for each entity field `F`.
    pub fn ner_labels(&self) -> Vec<String> {
        let mut labels = vec!["O".to_string()];
        for f in self.entity_fields() {
            labels.push(format!("B-{f}"));
            labels.push(format!("I-{f}"));
        }
        labels
    }

    /// The id of label `B-field` (`I-field` is one more), or `None` for a field outside the
    /// label set (Doc2EDAG labels those characters `O`).
    pub fn begin_label(&self, field: &str) -> Option<usize> {
        self.entity_fields()
            .iter()
            .position(|f| *f == field)
            .map(|i| 1 + 2 * i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duee_role_counts_match_the_spec() {
        let counts: Vec<usize> = DUEE_FIN.events.iter().map(|e| e.roles.len()).collect();
        // Spec C.1: 质押 9, 股份回购 7, 解除质押 9, 被约谈 4, 企业收购 6, 股东增持 9, 高管变动 8,
        // 中标 6, 公司上市 8, 企业融资 7, 亏损 5, 股东减持 9, 企业破产 5.
        assert_eq!(counts, [9, 7, 9, 4, 6, 9, 8, 6, 8, 7, 5, 9, 5]);
        let pledge = DUEE_FIN.event("质押").unwrap().1;
        let release = DUEE_FIN.event("解除质押").unwrap().1;
        let mut a = pledge.roles.to_vec();
        let mut b = release.roles.to_vec();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "解除质押 has the same nine roles as 质押");
    }

    #[test]
    fn good_candidate_needs_keys_and_count() {
        let (_, ep) = CHFINANN.event("EquityPledge").unwrap();
        let full = [
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            None,
            None,
            None,
            None,
        ];
        assert!(ep.is_good_candidate(&full));
        let no_pledgee = [
            Some(1),
            Some(2),
            None,
            Some(4),
            Some(5),
            Some(6),
            None,
            None,
            None,
        ];
        assert!(!ep.is_good_candidate(&no_pledgee));
        let too_few = [
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            None,
            None,
            None,
            None,
            None,
        ];
        assert!(!ep.is_good_candidate(&too_few));
    }
}
