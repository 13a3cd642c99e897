"""The pure views of a run: the model in, text or data out.

Nothing here imports Textual, the TUI, the runner or the sandbox (tests/test_architecture.py)."""
