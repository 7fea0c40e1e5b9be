//! Injected faults: which requests the sandbox answers wrongly, and how.
//!
//! The grammar (taught with examples by `campaignctl sandbox --help`):
//!
//! ```text
//! SPEC   = WHEN "=" ACTION ("+" ACTION)*
//! WHEN   = N | N "-" M | "*"
//! ACTION = "code:" C | "http:" S | "drop" | "record" | "delay:" MS
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Which createandcall requests a fault applies to, by their 1-based number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Every,
    Range { first: u64, last: u64 },
}

impl Target {
    pub fn matches(self, number: u64) -> bool {
        match self {
            Target::Every => true,
            Target::Range { first, last } => (first..=last).contains(&number),
        }
    }
}

/// What is answered instead of the request's true verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A coded answer with HTTP 200, like the provider's own.
    Code(i64),
    /// A bare HTTP status with an empty body, as a proxy or a crashed gateway would give.
    Http(u16),
    /// No answer: the connection is closed.
    Drop,
}

/// One fault spec, e.g. `3=code:88+record`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub target: Target,
    pub answer: Option<Answer>,
    /// With an answer: check the request first and record its task when it passes.
    pub record: bool,
    pub delay: Option<Duration>,
}

/// The fault for request `number`: the last matching one.
pub fn fault_for(faults: &[Fault], number: u64) -> Option<&Fault> {
    faults
        .iter()
        .rev()
        .find(|fault| fault.target.matches(number))
}

/// A fault spec that does not follow the grammar in `sandbox --help`.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid fault `{spec}`: {why} (expected e.g. `3=code:88`, `2-4=drop+record`, `*=delay:200`)"
)]
pub struct FaultSpecError {
    spec: String,
    why: String,
}

impl FromStr for Fault {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<Fault, FaultSpecError> {
        let invalid = |why: String| FaultSpecError {
            spec: spec.to_owned(),
            why,
        };
        let (when, actions) = spec
            .split_once('=')
            .ok_or_else(|| invalid("no `=` between the request number and the action".into()))?;
        let target = parse_target(when.trim()).map_err(invalid)?;

        let mut fault = Fault {
            target,
            answer: None,
            record: false,
            delay: None,
        };
        for action in actions.split('+').map(str::trim) {
            let (name, arg) = match action.split_once(':') {
                Some((name, arg)) => (name, Some(arg)),
                None => (action, None),
            };
            let new_answer = match (name, arg) {
                ("code", Some(code)) => Answer::Code(
                    code.parse()
                        .map_err(|_| invalid(format!("`{code}` is not an integer code")))?,
                ),
                ("http", Some(status)) => Answer::Http(
                    status
                        .parse()
                        .ok()
                        .filter(|status| (200..=599).contains(status))
                        .ok_or_else(|| {
                            invalid(format!("`{status}` is not an HTTP status from 200 to 599"))
                        })?,
                ),
                ("drop", None) => Answer::Drop,
                ("record", None) => {
                    fault.record = true;
                    continue;
                }
                ("delay", Some(ms)) => {
                    if fault.delay.is_some() {
                        return Err(invalid("more than one delay".into()));
                    }
                    let ms: u64 = ms
                        .parse()
                        .map_err(|_| invalid(format!("`{ms}` is not a number of milliseconds")))?;
                    fault.delay = Some(Duration::from_millis(ms));
                    continue;
                }
                _ => return Err(invalid(format!("unknown action `{action}`"))),
            };
            if fault.answer.replace(new_answer).is_some() {
                return Err(invalid("more than one of code, http and drop".into()));
            }
        }
        if fault.record && fault.answer.is_none() {
            return Err(invalid(
                "`record` goes with code, http or drop (any other request is recorded when it passes)"
                    .into(),
            ));
        }
        if fault.answer.is_none() && fault.delay.is_none() {
            return Err(invalid("no action".into()));
        }
        Ok(fault)
    }
}

fn parse_target(when: &str) -> Result<Target, String> {
    if when == "*" {
        return Ok(Target::Every);
    }
    let number = |text: &str| -> Result<u64, String> {
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("`{text}` is not a request number (1, 2, ...)"))
    };
    let (first, last) = match when.split_once('-') {
        Some((first, last)) => (number(first)?, number(last)?),
        None => {
            let n = number(when)?;
            (n, n)
        }
    };
    if first > last {
        return Err(format!("the range `{when}` is empty"));
    }
    Ok(Target::Range { first, last })
}

/// The canonical spec, which parses back to the same fault.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target {
            Target::Every => f.write_str("*=")?,
            Target::Range { first, last } if first == last => write!(f, "{first}=")?,
            Target::Range { first, last } => write!(f, "{first}-{last}=")?,
        }
        let mut parts = Vec::new();
        match self.answer {
            Some(Answer::Code(code)) => parts.push(format!("code:{code}")),
            Some(Answer::Http(status)) => parts.push(format!("http:{status}")),
            Some(Answer::Drop) => parts.push("drop".to_owned()),
            None => {}
        }
        if self.record {
            parts.push("record".to_owned());
        }
        if let Some(delay) = self.delay {
            parts.push(format!("delay:{}", delay.as_millis()));
        }
        f.write_str(&parts.join("+"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Fault {
        spec.parse().unwrap_or_else(|err| panic!("{spec}: {err}"))
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(
            parse("3=code:88"),
            Fault {
                target: Target::Range { first: 3, last: 3 },
                answer: Some(Answer::Code(88)),
                record: false,
                delay: None,
            }
        );
        assert_eq!(
            parse("2-4=delay:150+drop+record"),
            Fault {
                target: Target::Range { first: 2, last: 4 },
                answer: Some(Answer::Drop),
                record: true,
                delay: Some(Duration::from_millis(150)),
            }
        );
        assert_eq!(parse("*=http:500").target, Target::Every);
        assert_eq!(
            parse(" 5 = http:502 + record ").answer,
            Some(Answer::Http(502))
        );
    }

    #[test]
    fn display_round_trips() {
        for spec in [
            "3=code:88",
            "3=code:-1+record",
            "1-2=code:1004",
            "*=delay:200",
            "9=drop+record+delay:10",
            "5=http:500",
        ] {
            let fault = parse(spec);
            assert_eq!(fault.to_string(), spec);
            assert_eq!(parse(&fault.to_string()), fault);
        }
    }

    #[test]
    fn rejects_nonsense_with_the_spec_in_the_message() {
        for bad in [
            "",
            "3",
            "0=drop",
            "x=drop",
            "4-2=drop",
            "3=",
            "3=record",
            "3=code:x",
            "3=http:99",
            "3=http:600",
            "3=code:88+drop",
            "3=delay:1+delay:2",
            "3=explode",
            "3=drop:1",
        ] {
            let err = bad.parse::<Fault>().expect_err(bad).to_string();
            assert!(err.starts_with(&format!("invalid fault `{bad}`")), "{err}");
        }
    }

    #[test]
    fn last_matching_fault_wins() {
        let faults = [parse("*=delay:5"), parse("2=code:99"), parse("2-3=drop")];
        assert_eq!(fault_for(&faults, 1), Some(&faults[0]));
        assert_eq!(fault_for(&faults, 2), Some(&faults[2]));
        assert_eq!(fault_for(&faults, 4), Some(&faults[0]));
        assert_eq!(fault_for(&faults[1..], 1), None);
    }
}
