//! Output for pull-request comments and GitHub job summaries: GitHub-flavoured markdown, numbers
//! always masked, every value from a file or the provider escaped so it cannot break the table
//! or inject markup.

pub mod apply;
pub mod plan;

use campaignctl::diagnostic::escape;

/// The most a GitHub comment or job summary takes, in characters.
pub const GITHUB_LIMIT: usize = 65_535;

/// `text` as inline code that stays one table cell: HTML-escaped inside `<code>`, since a
/// backtick or a `|` in a task name would otherwise end the span or the cell.
pub fn code(text: &str) -> String {
    let mut out = String::from("<code>");
    for c in escape(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            c => out.push(c),
        }
    }
    out.push_str("</code>");
    out
}

/// `text` cut at a line boundary to fit GitHub's limit, with a note saying what was cut.
pub fn fit(text: String) -> String {
    if text.chars().count() <= GITHUB_LIMIT {
        return text;
    }
    const ROOM: usize = 200;
    let mut kept = String::new();
    let mut cut_lines = 0;
    for line in text.lines() {
        if cut_lines > 0 || kept.chars().count() + line.chars().count() + 1 > GITHUB_LIMIT - ROOM {
            cut_lines += 1;
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept.push_str(&format!(
        "\n_… {cut_lines} more lines cut to fit GitHub's limit of {GITHUB_LIMIT} characters; \
         the job's log has all of it._\n"
    ));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_cannot_break_a_table_or_inject_markup() {
        assert_eq!(code("a|b`c<b>"), "<code>a&#124;b&#96;c&lt;b&gt;</code>");
        assert_eq!(code("x\u{1b}[2J"), "<code>x\\u{1b}[2J</code>");
    }

    #[test]
    fn long_documents_are_cut_at_a_line_with_a_note() {
        let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        let fitted = fit(text);
        assert!(fitted.chars().count() <= GITHUB_LIMIT, "{}", fitted.len());
        assert!(fitted.contains("more lines cut to fit GitHub's limit"));
        assert!(fitted.starts_with("line 0\n"));
        assert_eq!(fit("short\n".to_owned()), "short\n");
    }
}
