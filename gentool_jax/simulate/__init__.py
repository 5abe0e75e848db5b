"""The offline GenTool tool world: domains, tools, weak/strong pairs, queries, splits.

Plain Python and NumPy only: nothing here imports JAX.
"""
