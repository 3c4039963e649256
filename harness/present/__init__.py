"""Presenting results: the HTML report, the command line and the pytest plugin."""
