"""What the TUI's actions and the one-shot subcommands both do, implemented once.

Plain functions over plain values: no Textual here (the TUI calls these from workers;
tests/unit/test_layers.py checks the import rule) and no click (the commands in
`nomtui.commands` parse arguments and print). Failures are `nomtui.errors` classes
with a one-sentence message, ready for a status bar or an `Error:` line.
"""
