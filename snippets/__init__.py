"""The bundled asyncplay snippets, shipped in the wheel as ``asyncplay.snippets_data``.

This file only makes the folder a package; it is not a snippet. See ``asyncplay/snippets.py``
for the docstring format every snippet follows and for the course order.
"""
