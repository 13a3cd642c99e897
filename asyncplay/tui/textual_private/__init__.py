"""Each private Textual API behind one small module, with a test that fails loudly when it moves."""
