"""Stage 2: the frozen transformers teacher that turns texts into sentence embeddings, and its disk cache."""
