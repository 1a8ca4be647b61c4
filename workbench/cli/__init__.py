"""Stage 4 (headless): the command-line tools. They print trainer events; they never import Qt."""
