"""GenTool in JAX: zero-to-one and weak-to-strong tool-use training for Llama-family models."""

__version__ = "0.1.0"
