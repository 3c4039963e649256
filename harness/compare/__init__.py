"""Comparing traces: expectations, the differ, the gate and the baseline; pure functions, no wasmtime."""
