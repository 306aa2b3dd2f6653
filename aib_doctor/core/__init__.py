"""The pure diagnosis: log stream, RE2 scan, rule catalog, timeline, ranking, redaction, input readers.

Nothing here imports azure, typer or a command package; it is handed bytes and returns the model's types.
"""
