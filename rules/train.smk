# Stage 1 (dense network, keeping w0) and stage 3 (the ticket: m ⊙ w0, retrained).


rule train_dense:
    output:
        init=INIT,
        model=DENSE_DIR + "/model.pt",
        record=DENSE_DIR + "/train.json",
    params:
        settings=train_params,
        key=run_key,
        checkpoint=lambda w: DENSE_DIR.format(**w) + "/train_checkpoint.pt",
    log:
        LOGS + "/train_dense/{dataset}_{arch}_seed{seed}.log",
    benchmark:
        BENCHMARKS + "/train_dense/{dataset}_{arch}_seed{seed}.tsv"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=gpu_request,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_dense.py"


rule train_ticket:
    input:
        init=INIT,
        mask=MODEL_DIR + "/mask.pt",
        dense_record=DENSE_DIR + "/train.json",
    output:
        model=MODEL_DIR + "/model.pt",
        record=MODEL_DIR + "/train.json",
    wildcard_constraints:
        sparsity=NONZERO_SPARSITY_PATTERN,
    params:
        settings=train_params,
        key=run_key,
        checkpoint=lambda w: MODEL_DIR.format(**w) + "/train_checkpoint.pt",
    log:
        LOGS + "/train_ticket/{dataset}_{arch}_seed{seed}_sparsity{sparsity}.log",
    benchmark:
        BENCHMARKS + "/train_ticket/{dataset}_{arch}_seed{seed}_sparsity{sparsity}.tsv"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=gpu_request,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_ticket.py"
