"""The Textual front end: ``asyncplay`` with no sub-command opens it.

Imported only when the editor starts: the headless ``run`` command never pays for Textual.
"""
