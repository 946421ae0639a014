# Exposes OptimKind to Python.
