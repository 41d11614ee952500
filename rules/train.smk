# Stage 1 (dense network from w0) and stage 3 (the ticket: m ⊙ w0, m ⊙ w_k or m ⊙ fresh init, retrained).


rule train_dense:
    input:
        init_path=INIT,
    output:
        **dense_rewind_outputs(),
        model_path=f"{DENSE_DIR}/model.pt",
        record_path=f"{DENSE_DIR}/train.json",
    log:
        f"{LOGS}/train_dense/{{dataset}}_{{arch}}_{{run}}.log",
    benchmark:
        f"{BENCHMARKS}/train_dense/{{dataset}}_{{arch}}_{{run}}.tsv"
    group:
        GPU_GROUP
    conda:
        "../envs/torch.yaml"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=shared_gpu_request,
        runtime=train_runtime,
        mem_mb=torch_mem_mb,
    params:
        settings=train_settings,
        key=model_key,
        checkpoint_path=f"{DENSE_DIR}/train_checkpoint.pt",
        rewind_epoch=lambda w: dense_rewind_epoch(w.dataset),
    script:
        "../workflow_scripts/train_dense.py"


rule train_ticket:
    input:
        unpack(ticket_inputs),
    output:
        model_path=f"{TICKET_DIR}/model.pt",
        record_path=f"{TICKET_DIR}/train.json",
    log:
        f"{LOGS}/train_ticket/{{dataset}}_{{arch}}_{{run}}_{{method}}_sparsity{{sparsity}}.log",
    benchmark:
        f"{BENCHMARKS}/train_ticket/{{dataset}}_{{arch}}_{{run}}_{{method}}_sparsity{{sparsity}}.tsv"
    wildcard_constraints:
        sparsity=NONZERO_SPARSITY_PATTERN,
    group:
        GPU_GROUP
    conda:
        "../envs/torch.yaml"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=shared_gpu_request,
        runtime=train_runtime,
        mem_mb=torch_mem_mb,
    params:
        settings=train_settings,
        key=model_key,
        checkpoint_path=f"{TICKET_DIR}/train_checkpoint.pt",
        reinit=lambda w: METHODS[w.method].reinitialises,
    script:
        "../workflow_scripts/train_ticket.py"
