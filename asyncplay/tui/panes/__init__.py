"""The playground's panes: one widget per module; they render, they do not parse, spawn or decide."""
