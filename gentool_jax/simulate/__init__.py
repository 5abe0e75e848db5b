"""The offline GenTool tool world: domains, tools, weak/strong pairs, queries, toolsets, splits,
the leakage check and the TFDS builder.

Plain Python and NumPy only: nothing here imports JAX, and nothing here imports the importers or
the teacher (they build on this world, not the other way round).
"""
