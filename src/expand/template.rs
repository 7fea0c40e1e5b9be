//! Templates: minijinja with strict undefined, reading nothing but the names a campaign gives.

use minijinja::{Environment, UndefinedBehavior};

/// Whether a string holds template syntax (plain strings are used as they are).
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// A template that does not parse, with the byte offset of the problem in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// The environment every campaign template runs in: strict undefined, no loader (so no
/// `include` or `import` can read a file).
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

/// Parses `source` without rendering it.
pub fn check_syntax(source: &str) -> Result<(), SyntaxError> {
    let env = environment();
    match env.template_from_str(source) {
        Ok(_) => Ok(()),
        Err(err) => Err(SyntaxError {
            offset: error_offset(&err, source),
            message: err.detail().unwrap_or("invalid template").to_owned(),
        }),
    }
}

/// The byte offset in `source` a minijinja error points at: its range when known, else the
/// start of its line.
pub fn error_offset(err: &minijinja::Error, source: &str) -> usize {
    if let Some(range) = err.range() {
        return range.start.min(source.len());
    }
    match err.line() {
        Some(line) if line > 1 => source
            .match_indices('\n')
            .nth(line - 2)
            .map_or(0, |(i, _)| i + 1),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_carry_offsets() {
        assert!(check_syntax("renewal-{{ quarter }}").is_ok());
        let err = check_syntax("abc {{ x ").unwrap_err();
        assert!(err.offset >= 4, "{err:?}");
        assert!(!is_template("plain"));
    }
}
