"""Looking inside a trained run: the 3D cube, row tracing, Ask and the report."""
