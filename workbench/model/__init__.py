"""Stage 2: the model, a 3D lattice of cells sharing one neural rule, with the reshaper between vectors and grids."""
