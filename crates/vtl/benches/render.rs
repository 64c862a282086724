//! Render benchmarks (filled in below).
fn main() {}
