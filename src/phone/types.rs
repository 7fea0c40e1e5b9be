//! What kind of line a number is, in libphonenumber's terms, and which kinds a campaign dials.

use rlibphonenumber::PhoneNumberType;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A number's type, from libphonenumber's number-range metadata.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum NumberType {
    /// A landline.
    FixedLine,
    /// A mobile phone.
    Mobile,
    /// A landline or a mobile phone: the country's numbers do not tell them apart (US, CA, …).
    FixedLineOrMobile,
    /// Free for the caller (US 800, GB 0800).
    TollFree,
    /// Costs the caller more than a normal call (GB 09).
    PremiumRate,
    /// The cost is split between caller and recipient (GB 0845).
    SharedCost,
    /// Voice over IP (GB 056).
    Voip,
    /// A personal number that forwards elsewhere (GB 070).
    PersonalNumber,
    /// A pager.
    Pager,
    /// A company's universal access number.
    Uan,
    /// A voicemail box.
    Voicemail,
    /// In no range the metadata knows: only numbers of a source with `check: possible-length`.
    Unknown,
}

impl NumberType {
    /// Every type, in the order of [`NumberType::index`].
    pub const ALL: [NumberType; 12] = [
        NumberType::FixedLine,
        NumberType::Mobile,
        NumberType::FixedLineOrMobile,
        NumberType::TollFree,
        NumberType::PremiumRate,
        NumberType::SharedCost,
        NumberType::Voip,
        NumberType::PersonalNumber,
        NumberType::Pager,
        NumberType::Uan,
        NumberType::Voicemail,
        NumberType::Unknown,
    ];

    /// Its position in [`NumberType::ALL`], for counting in arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// As written in `numberTypes` and in `plan --json`: `fixedLine`.
    pub fn key(self) -> &'static str {
        const KEYS: [&str; 12] = [
            "fixedLine",
            "mobile",
            "fixedLineOrMobile",
            "tollFree",
            "premiumRate",
            "sharedCost",
            "voip",
            "personalNumber",
            "pager",
            "uan",
            "voicemail",
            "unknown",
        ];
        KEYS[self.index()]
    }

    /// For sentences: `a premium-rate number`.
    pub fn describe(self) -> &'static str {
        const WORDS: [&str; 12] = [
            "a fixed-line number",
            "a mobile number",
            "a fixed-line or mobile number (its country's numbers do not tell them apart)",
            "a toll-free number",
            "a premium-rate number",
            "a shared-cost number",
            "a VoIP number",
            "a personal number",
            "a pager number",
            "a universal access number (UAN)",
            "a voicemail number",
            "a number of unknown type (in no range the phone-number metadata knows)",
        ];
        WORDS[self.index()]
    }

    pub(super) fn from_lib(kind: PhoneNumberType) -> NumberType {
        match kind {
            PhoneNumberType::FixedLine => NumberType::FixedLine,
            PhoneNumberType::Mobile => NumberType::Mobile,
            PhoneNumberType::FixedLineOrMobile => NumberType::FixedLineOrMobile,
            PhoneNumberType::TollFree => NumberType::TollFree,
            PhoneNumberType::PremiumRate => NumberType::PremiumRate,
            PhoneNumberType::SharedCost => NumberType::SharedCost,
            PhoneNumberType::VoIP => NumberType::Voip,
            PhoneNumberType::PersonalNumber => NumberType::PersonalNumber,
            PhoneNumberType::Pager => NumberType::Pager,
            PhoneNumberType::UAN => NumberType::Uan,
            PhoneNumberType::VoiceMail => NumberType::Voicemail,
            PhoneNumberType::Unknown => NumberType::Unknown,
        }
    }

    pub(super) fn to_lib(self) -> PhoneNumberType {
        match self {
            NumberType::FixedLine => PhoneNumberType::FixedLine,
            NumberType::Mobile => PhoneNumberType::Mobile,
            NumberType::FixedLineOrMobile => PhoneNumberType::FixedLineOrMobile,
            NumberType::TollFree => PhoneNumberType::TollFree,
            NumberType::PremiumRate => PhoneNumberType::PremiumRate,
            NumberType::SharedCost => PhoneNumberType::SharedCost,
            NumberType::Voip => PhoneNumberType::VoIP,
            NumberType::PersonalNumber => PhoneNumberType::PersonalNumber,
            NumberType::Pager => PhoneNumberType::Pager,
            NumberType::Uan => PhoneNumberType::UAN,
            NumberType::Voicemail => PhoneNumberType::VoiceMail,
            NumberType::Unknown => PhoneNumberType::Unknown,
        }
    }

    /// Whether libphonenumber locates numbers of this type by their prefix (its
    /// `isNumberTypeGeographical`): fixed lines everywhere, mobiles in the countries whose
    /// mobile numbers carry an area code.
    pub(super) fn is_geographical(self, calling_code: u16) -> bool {
        // libphonenumber's GEO_MOBILE_COUNTRIES: Mexico, Argentina, Brazil, Indonesia, China.
        const GEO_MOBILE: [u16; 5] = [52, 54, 55, 62, 86];
        match self {
            NumberType::FixedLine | NumberType::FixedLineOrMobile => true,
            NumberType::Mobile => GEO_MOBILE.contains(&calling_code),
            _ => false,
        }
    }
}

/// Which types a campaign dials: those `numberTypes` lists, or by default every type but
/// premium rate and shared cost (an AI call campaign has no business paying a premium line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialed {
    allowed: [bool; 12],
    /// Whether the campaign listed its types (for messages).
    listed: bool,
}

impl Default for Dialed {
    fn default() -> Self {
        let mut allowed = [true; 12];
        allowed[NumberType::PremiumRate.index()] = false;
        allowed[NumberType::SharedCost.index()] = false;
        Dialed {
            allowed,
            listed: false,
        }
    }
}

impl Dialed {
    /// The types a campaign's `numberTypes` lists. A fixed-line-or-mobile number is either of
    /// the two, so listing both fixed lines and mobiles takes it too.
    pub fn listed(types: &[NumberType]) -> Self {
        let mut allowed = [false; 12];
        for kind in types {
            allowed[kind.index()] = true;
        }
        if allowed[NumberType::FixedLine.index()] && allowed[NumberType::Mobile.index()] {
            allowed[NumberType::FixedLineOrMobile.index()] = true;
        }
        Dialed {
            allowed,
            listed: true,
        }
    }

    pub fn allows(&self, kind: NumberType) -> bool {
        self.allowed[kind.index()]
    }

    /// Why a number of type `kind` is not dialed, as the end of a sentence.
    pub(super) fn refusal(&self, kind: NumberType) -> String {
        if self.listed {
            let listed: Vec<&str> = NumberType::ALL
                .iter()
                .filter(|kind| self.allows(**kind) && **kind != NumberType::FixedLineOrMobile)
                .map(|kind| kind.key())
                .collect();
            format!(
                "it is {}, and the campaign's `numberTypes` lists only {}; add `{}` to dial it",
                kind.describe(),
                listed.join(", "),
                kind.key()
            )
        } else {
            format!(
                "it is {}, which a campaign dials only when its `numberTypes` lists `{}`",
                kind.describe(),
                kind.key()
            )
        }
    }
}

/// Numbers counted by type. Serialized as an object of the types with numbers:
/// `{"fixedLine": 3, "mobile": 2}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts([usize; 12]);

impl Serialize for TypeCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.nonzero().map(|(kind, count)| (kind.key(), count)))
    }
}

impl TypeCounts {
    pub fn add(&mut self, kind: NumberType) {
        self.0[kind.index()] += 1;
    }

    pub fn get(&self, kind: NumberType) -> usize {
        self.0[kind.index()]
    }

    /// The types with at least one number, with their counts, in [`NumberType::ALL`] order.
    pub fn nonzero(&self) -> impl Iterator<Item = (NumberType, usize)> + '_ {
        NumberType::ALL
            .into_iter()
            .map(|kind| (kind, self.get(kind)))
            .filter(|(_, count)| *count > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_serde_names() {
        for kind in NumberType::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.key())
            );
        }
        for (index, kind) in NumberType::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), index);
            assert_eq!(NumberType::from_lib(kind.to_lib()), kind);
        }
    }

    #[test]
    fn premium_and_shared_cost_are_refused_by_default() {
        let dialed = Dialed::default();
        assert!(!dialed.allows(NumberType::PremiumRate));
        assert!(!dialed.allows(NumberType::SharedCost));
        assert!(dialed.allows(NumberType::Mobile));
        assert!(dialed.allows(NumberType::TollFree));
        assert_eq!(
            dialed.refusal(NumberType::PremiumRate),
            "it is a premium-rate number, which a campaign dials only when its `numberTypes` \
             lists `premiumRate`"
        );
    }

    #[test]
    fn a_list_allows_only_its_types() {
        let dialed = Dialed::listed(&[NumberType::Mobile, NumberType::FixedLine]);
        assert!(dialed.allows(NumberType::FixedLineOrMobile));
        assert!(!dialed.allows(NumberType::TollFree));
        assert!(!dialed.allows(NumberType::Unknown));
        assert_eq!(
            dialed.refusal(NumberType::TollFree),
            "it is a toll-free number, and the campaign's `numberTypes` lists only fixedLine, \
             mobile; add `tollFree` to dial it"
        );
        let mobiles = Dialed::listed(&[NumberType::Mobile]);
        assert!(!mobiles.allows(NumberType::FixedLineOrMobile));
        assert!(Dialed::listed(&[NumberType::PremiumRate]).allows(NumberType::PremiumRate));
    }

    #[test]
    fn counts_add_up_by_type() {
        let mut counts = TypeCounts::default();
        counts.add(NumberType::Mobile);
        counts.add(NumberType::Mobile);
        counts.add(NumberType::Voip);
        let mut total = counts;
        total.add(NumberType::Mobile);
        total.add(NumberType::Mobile);
        total.add(NumberType::Voip);
        assert_eq!(
            total.nonzero().collect::<Vec<_>>(),
            [(NumberType::Mobile, 4), (NumberType::Voip, 2)]
        );
        assert_eq!(
            serde_json::to_string(&total).unwrap(),
            r#"{"mobile":4,"voip":2}"#
        );
    }
}
