"""External runners: backends whose runtime runs in another process (``jco`` on Node).

``protocol`` is the versioned JSON-lines protocol between the harness and a runner,
``session`` one runner process, ``external_run`` a scenario's run through it. Each
runtime's runner lives in a folder of its own here (``jco/``), with its ecosystem's lockfile.
"""
