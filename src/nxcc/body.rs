//! The createandcall request body, field for field as the provider documents it.
//!
//! Field order here is the order on the wire: the body is serialized once, and those exact bytes
//! are signed, shown by `render`, stored in plan files and sent.

use serde::{Deserialize, Serialize};

/// The body of `POST /saas/cc/openapi/ai/createandcall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAndCall {
    pub task_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_desc: Option<String>,
    pub country: String,
    pub strategy_name: String,
    /// 0 none, 1 ratio, 2 predictive.
    pub dispatch_type: u8,
    pub agent_group_no: String,
    pub predict_call_rate: f64,
    pub ratio_call_rate: f64,
    pub start_count: i64,
    /// 0 none, 1 manual, 2 scheduled, 3 immediate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_type: Option<u8>,
    pub call_list: Vec<CallItem>,
}

impl CreateAndCall {
    /// The same task with an empty `call_list`: its settings, cheap to copy and compare.
    pub fn without_numbers(&self) -> CreateAndCall {
        CreateAndCall {
            task_name: self.task_name.clone(),
            task_desc: self.task_desc.clone(),
            country: self.country.clone(),
            strategy_name: self.strategy_name.clone(),
            dispatch_type: self.dispatch_type,
            agent_group_no: self.agent_group_no.clone(),
            predict_call_rate: self.predict_call_rate,
            ratio_call_rate: self.ratio_call_rate,
            start_count: self.start_count,
            startup_type: self.startup_type,
            call_list: Vec::new(),
        }
    }

    /// The body as sent: compact JSON, serialized once so the signed bytes are the sent bytes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .expect("a createandcall body serializes: it holds only strings and numbers")
    }
}

/// One number of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallItem {
    /// 32 uppercase hex digits, derived from the campaign and the number (see `expand`).
    #[serde(rename = "orderID")]
    pub order_id: String,
    /// Country code and national number, digits only, no `+`.
    #[serde(rename = "userPhone")]
    pub user_phone: String,
    /// Pass-through value returned in call records.
    pub other: String,
}

#[cfg(test)]
impl CreateAndCall {
    /// A body for tests: number `n` is `+447700900nnn` (a range reserved for fiction) with the
    /// orderID `IDn`.
    pub(crate) fn sample(task_name: &str, numbers: &[u32]) -> CreateAndCall {
        CreateAndCall {
            task_name: task_name.into(),
            task_desc: None,
            country: "GB".into(),
            strategy_name: "Default Strategy".into(),
            dispatch_type: 0,
            agent_group_no: "NX1".into(),
            predict_call_rate: 1.0,
            ratio_call_rate: 1.0,
            start_count: 1,
            startup_type: None,
            call_list: numbers
                .iter()
                .map(|n| CallItem {
                    order_id: format!("ID{n}"),
                    user_phone: format!("447700900{n:03}"),
                    other: String::new(),
                })
                .collect(),
        }
    }

    /// [`CreateAndCall::sample`] with the orderIDs campaignctl gives its numbers in `campaign`,
    /// as state requires.
    pub(crate) fn sample_in(campaign: &str, task_name: &str, numbers: &[u32]) -> CreateAndCall {
        let mut body = CreateAndCall::sample(task_name, numbers);
        for item in &mut body.call_list {
            item.order_id = super::order_id::order_id(campaign, &item.user_phone);
        }
        body
    }
}
