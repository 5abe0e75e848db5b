"""Teacher-LLM generation (`simulate --teacher=SEEDS`): GenTool's weak tools, queries and
arguments written by a model behind an OpenAI-compatible endpoint, then imported as pair records.
"""
