"""The playground's modal screens: help, settings, explanations, file dialogs, snippets."""
