"""`gentool-jax serve`: an OpenAI Chat Completions endpoint over the JAX sampler.

The package sits above `sample/` and `evaluate/` and nothing imports it. Its modules, in the
order a request meets them: `app` (the FastAPI routes, API key and body limit), `request`
(validate the JSON body against the request limits), `prompting` (the training prompt of a
GenTool record, or the plain chat template, and its toolset prefix), `batcher` (collect
concurrent requests into batches for one model worker thread), `engine` (one fixed-shape
`generate` call per batch), `prefix_cache` (toolset prefills kept across requests), `reply`
(parse the generation into an OpenAI message), `stream` (a finished reply as OpenAI's chunks);
`http_errors` holds the OpenAI error object and `command` loads the checkpoint, listens and
shuts down gracefully. docs/serving.md describes the wire format.
"""
