"""The load bench harness behind bench/run."""
