"""BFCL's single-call categories, converted to our records and scored offline (docs/bfcl.md)."""
