"""Root pytest glue: loads the handle-compat pytest plugin."""

pytest_plugins = ["harness.present.pytest_plugin"]
