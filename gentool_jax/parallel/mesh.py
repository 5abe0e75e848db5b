"""The device mesh every sharded array lives on: ("data", "fsdp", "tensor")."""

from __future__ import annotations

import math

import jax
from jax.sharding import AxisType, Mesh

from gentool_jax.errors import GentoolError

AXES = ("data", "fsdp", "tensor")


def mesh_shape(mesh_config, num_devices: int) -> tuple[int, int, int]:
    """Resolve the one allowed -1 to the devices left over; reject products that do not fit."""
    sizes = [int(mesh_config[axis]) for axis in AXES]
    free = [i for i, size in enumerate(sizes) if size == -1]
    if len(free) > 1 or any(size == 0 or size < -1 for size in sizes):
        raise GentoolError(f"mesh {dict(zip(AXES, sizes))}: each axis must be >= 1, "
                           "and at most one may be -1")
    fixed = math.prod(size for size in sizes if size != -1)
    if free:
        if num_devices % fixed:
            raise GentoolError(f"mesh {dict(zip(AXES, sizes))}: {num_devices} devices do not "
                               f"divide by the fixed axes' product {fixed}")
        sizes[free[0]] = num_devices // fixed
    if math.prod(sizes) != num_devices:
        raise GentoolError(f"mesh {dict(zip(AXES, sizes))} needs {math.prod(sizes)} devices, "
                           f"but {num_devices} are available (mesh.data/fsdp/tensor)")
    return tuple(sizes)


def make_mesh(mesh_config, devices=None) -> Mesh:
    """A mesh over all (or the given) devices, tensor axis innermost (fastest interconnect)."""
    devices = list(jax.devices() if devices is None else devices)
    shape = mesh_shape(mesh_config, len(devices))
    # Auto axes: shardings are hints to the compiler, not part of the array types.
    return jax.make_mesh(shape, AXES, axis_types=(AxisType.Auto,) * len(AXES), devices=devices)
