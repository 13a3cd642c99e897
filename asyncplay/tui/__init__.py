"""The Textual front end: ``asyncplay`` with no sub-command opens it."""
