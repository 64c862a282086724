//! The committed generated files are exactly what the vendored models give (the same check as
//! `cargo xtask codegen --check`).

use xtask::codegen;

#[test]
fn committed_output_matches_the_models() {
    let root = codegen::workspace_root();
    let drift = codegen::check_all(&root).expect("models parse and generate");
    assert!(
        drift.is_empty(),
        "out of date: {drift:?}; run `cargo xtask codegen` and commit the result"
    );
}

#[test]
fn generation_is_deterministic() {
    let root = codegen::workspace_root();
    let first = codegen::generate_all(&root).expect("first run");
    let second = codegen::generate_all(&root).expect("second run");
    assert_eq!(first, second);
}
