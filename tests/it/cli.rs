//! Golden CLI tests: every `tests/cmd/**/*.toml` runs the real binary and compares its exit
//! code and output with what the case pins. Regenerate with
//! `TRYCMD=overwrite cargo test --test it cli`, then read every changed output before keeping it.

#[test]
fn cli() {
    trycmd::TestCases::new().case("tests/cmd/**/*.toml");
}
