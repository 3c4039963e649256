"""What a scenario, a trace, the WIT package and the rules are: pure data, no wasmtime."""
