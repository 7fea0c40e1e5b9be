//! Output for people at a terminal or reading a CI log.

pub mod apply;
pub mod diagnostics;
pub mod plan;
pub mod reconcile;
pub mod state;
pub mod style;

use campaignctl::diagnostic::escape;

pub fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// `text` with each of its lines escaped for a terminal (see [`escape`]), then coloured by its
/// marker; the line breaks stay.
pub fn escape_lines(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| match line.strip_suffix('\n') {
            Some(line) => format!("{}\n", style::paint_line(&escape(line))),
            None => style::paint_line(&escape(line)),
        })
        .collect()
}

/// `+4477••••••00`: enough to recognise a country and tell numbers apart, not to dial.
pub fn mask(digits: &str) -> String {
    let chars: Vec<char> = digits.chars().collect();
    if chars.len() <= 6 {
        return format!("+{}", "•".repeat(chars.len()));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("+{head}{}{tail}", "•".repeat(chars.len() - 6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_the_country_and_the_last_digits() {
        assert_eq!(mask("447700900123"), "+4477••••••23");
        assert_eq!(mask("123"), "+•••");
    }
}
