#!/bin/sh
# Re-records the VTL oracle corpus: renders every case in cases/*.py-generated input with
# Apache Velocity 1.7 (Debian `velocity`) + Jayway JsonPath 2.0 (`libjsonpath-java`) on Java 17
# and writes corpus/*.json with the inputs and the recorded outputs.
# Needs: apt-get install -y velocity libjsonpath-java openjdk-17-jdk-headless python3
set -eu
here=$(cd "$(dirname "$0")" && pwd)
J=/usr/share/java
CP="$J/velocity.jar:$J/json-path.jar:$J/json-smart.jar:$J/accessors-smart.jar:$J/commons-collections3.jar:$J/commons-lang.jar:$J/slf4j-api.jar:$J/slf4j-nop.jar"
for jar in velocity json-path json-smart commons-lang; do
  [ -f "$J/$jar.jar" ] || { echo "missing $J/$jar.jar: apt-get install -y velocity libjsonpath-java" >&2; exit 1; }
done
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
javac -nowarn -cp "$CP" -d "$build" "$here/Oracle.java"
python3 "$here/cases.py" emit > "$build/in.jsonl"
java -cp "$build:$CP" Oracle < "$build/in.jsonl" > "$build/out.jsonl"
python3 "$here/cases.py" merge "$build/out.jsonl"
