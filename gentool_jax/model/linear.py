"""The projection every Llama matmul goes through, with a slot for a low-rank adapter."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx


class Linear(nnx.Module):
    """`y = x @ kernel (+ bias) (+ lora(x))` with kernel `[in, out]`.

    `lora` is None until `model/lora.py` attaches an adapter module; it is declared as nnx data
    so that assigning a module later is tracked by nnx.split / merge / jit like any child.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        use_bias: bool = False,
        dtype: jnp.dtype = jnp.float32,
        param_dtype: jnp.dtype = jnp.float32,
        rngs: nnx.Rngs,
    ):
        self.in_features = in_features
        self.out_features = out_features
        self.dtype = dtype
        init = jax.nn.initializers.normal(0.02)
        self.kernel = nnx.Param(init(rngs.params(), (in_features, out_features), param_dtype))
        self.bias = nnx.Param(jnp.zeros((out_features,), param_dtype)) if use_bias else None
        self.lora = nnx.data(None)

    def __call__(self, x: jax.Array) -> jax.Array:
        # One 2-D matmul over all leading positions: XLA:CPU runs the backward of a 3-D
        # contraction (the adapters' gradients contract over batch and length) far slower.
        lead = x.shape[:-1]
        x = x.reshape(-1, x.shape[-1]).astype(self.dtype)
        y = x @ self.kernel[...].astype(self.dtype)
        if self.bias is not None:
            y = y + self.bias[...].astype(self.dtype)
        if self.lora is not None:
            y = y + self.lora(x).astype(self.dtype)
        return y.reshape(*lead, y.shape[-1])
