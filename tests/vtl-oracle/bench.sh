#!/bin/sh
# Apache Velocity 1.7 on a warmed JVM, same templates as crates/vtl/benches/render.rs.
# Compare with: cargo bench -p portico-vtl --bench render
set -eu
here=$(cd "$(dirname "$0")" && pwd)
J=/usr/share/java
CP="$J/velocity.jar:$J/json-path.jar:$J/json-smart.jar:$J/accessors-smart.jar:$J/commons-collections3.jar:$J/commons-lang.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
javac -nowarn -cp "$CP" -d "$build" "$here/Oracle.java" "$here/Bench.java"
# The passthrough template is the seed 003 one, as in the Rust benchmark.
sed -n '/^const PASSTHROUGH: &str = r#"/,/^"#;/p' "$here/../../crates/vtl/benches/render.rs" | sed '1s/^const PASSTHROUGH: &str = r#"//' | sed '$d' > "$build/passthrough.vm"
java -cp "$build:$CP" Bench "$build/passthrough.vm"
