"""Running scenarios: wrapping core modules into components, backends, limits, the compile cache, the runner."""
