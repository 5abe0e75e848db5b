#!/usr/bin/env bash
# The wheels the accelerator machine lacks, for an offline install there (issue 29).
#
#   bash benchmarks/accelerator_wheels.sh [DEST]     # DEST defaults to .whl (git-ignored)
#
# The GPU machine has no network and its own python3 (3.12, x86-64) with jax, flax, optax,
# orbax-checkpoint, transformers, torch, peft, numpy and pytest already installed
# (/work/.library/device/KINDS.md lists them). What gentool_jax imports beyond that list is
# below: one pinned version each, fetched with --no-deps (the machine's own packages satisfy
# the rest). On the far side:
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site DEST/*.whl
#   export PYTHONPATH=/tmp/site:$PWD
set -euo pipefail
dest=${1:-.whl}
mkdir -p "$dest"
wheels=(
  grain==0.2.18 array-record==0.8.6 portpicker==1.6.0
  tensorflow-datasets==4.9.10 dm-tree==0.1.10 immutabledict==4.3.1
  simple-parsing==0.1.9 docstring-parser==0.18.0 tensorflow-metadata==1.21.0
  googleapis-common-protos==1.76.0 termcolor==3.3.0 toml==0.10.2
  ml-collections==1.1.0 gguf==0.19.0 tensorboardX==2.6.5 llguidance==1.9.1
)
platforms=()
for p in manylinux_2_39_x86_64 manylinux_2_35_x86_64 manylinux_2_34_x86_64 manylinux_2_31_x86_64 \
         manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 \
         manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${platforms[@]}" -d "$dest" "${wheels[@]}"
# promise is published as a source distribution only: build its (pure-Python) wheel here.
python3 -m pip wheel -q --no-deps --no-build-isolation -w "$dest" promise==2.3
count=$(ls "$dest"/*.whl | wc -l)
echo "$count wheels in $dest: $(du -sh "$dest" | cut -f1)"
