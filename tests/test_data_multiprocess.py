"""The input pipeline across two real `jax.distributed` processes (4 CPU devices each).

Each process builds its own iterator from the JAX process layout, the rows become one global
array on a mesh spanning both processes, and the Orbax-saved iterator state (one file per
process) resumes both processes exactly.
"""

from pathlib import Path

import numpy as np
from jax_workers import free_port, run_workers
from test_data_common import records_file, tiny_model_dir, tiny_tokenizer  # noqa: F401
from test_data_pipeline import _configs

from gentool_jax.data import input_pipeline

_WORKER = """
import sys
sys.path.insert(0, {tests!r})
from ml_collections import ConfigDict
from gentool_jax.parallel import distributed
distributed.initialize(ConfigDict(dict(mode="explicit", coordinator_address={address!r},
                                       num_processes=2, process_id=int(sys.argv[1]))))
import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils
from test_data_pipeline import _configs
from gentool_jax.data import input_pipeline
from gentool_jax.model.registry import load_tokenizer
from gentool_jax.parallel.mesh import make_mesh
from gentool_jax.parallel.partition import batch_sharding

assert jax.process_count() == 2 and jax.device_count() == 8, jax.devices()
data, stage = _configs(batch_size=8, shuffle_tools=False)
tokenizer = load_tokenizer({model_dir!r})
mesh = make_mesh(ConfigDict(dict(data=2, fsdp=4, tensor=1)))
make = lambda: input_pipeline.make_train_iterator({records!r}, tokenizer, data_config=data,
                                            stage_config=stage, seed=11)

def global_tokens(iterator):
    batch = input_pipeline.to_global_batch(next(iterator), mesh, batch_sharding(mesh))
    assert batch["tokens"].shape[0] == 8
    return multihost_utils.process_allgather(batch["tokens"], tiled=True)

iterator = make()
first = [global_tokens(iterator)]
with ocp.CheckpointManager({checkpoints!r}) as manager:
    manager.save(1, args=ocp.args.Composite(data=input_pipeline.checkpoint_save_args(iterator)))
    manager.wait_until_finished()
rest = [global_tokens(iterator) for _ in range(2)]
resumed = make()
with ocp.CheckpointManager({checkpoints!r}) as manager:
    manager.restore(1, args=ocp.args.Composite(
        data=input_pipeline.checkpoint_restore_args(resumed)))
again = [global_tokens(resumed) for _ in range(2)]
if jax.process_index() == 0:
    np.savez({out!r}, first=np.stack(first), rest=np.stack(rest), again=np.stack(again))
"""


def test_two_jax_processes_share_an_epoch_and_resume(records_file, tiny_model_dir,  # noqa: F811
                                                     tiny_tokenizer, tmp_path):  # noqa: F811
    out = tmp_path / "tokens.npz"
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(
        tests=str(Path(__file__).parent), address=f"localhost:{free_port()}",
        model_dir=str(tiny_model_dir), records=str(records_file),
        checkpoints=str(tmp_path / "checkpoints"), out=str(out)))
    run_workers(script)
    saved = np.load(out)
    np.testing.assert_array_equal(saved["again"], saved["rest"])
    # The global rows are process 0's local rows, then process 1's: the same rows a pipeline
    # built with an explicit process layout gives, and together one epoch, each sample once.
    data, stage = _configs(batch_size=8, shuffle_tools=False)
    local = [input_pipeline.make_train_iterator(records_file, tiny_tokenizer, data_config=data,
                                          stage_config=stage, seed=11, process_index=index,
                                          process_count=2) for index in range(2)]
    steps = np.concatenate([saved["first"], saved["rest"]])
    for step in steps:
        expected = np.concatenate([next(iterator)["tokens"] for iterator in local])
        np.testing.assert_array_equal(step, expected)
    assert len({row.tobytes() for row in steps.reshape(-1, steps.shape[-1])}) == 24
