# Stage 1 (dense network, keeping w0) and stage 3 (the ticket: m ⊙ w0, retrained).


rule train_dense:
    output:
        init_path=INIT,
        model_path=f"{DENSE_DIR}/model.pt",
        record_path=f"{DENSE_DIR}/train.json",
    log:
        f"{LOGS}/train_dense/{{dataset}}_{{arch}}_{{run}}.log",
    benchmark:
        f"{BENCHMARKS}/train_dense/{{dataset}}_{{arch}}_{{run}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=gpu_request,
        runtime=train_runtime,
        mem_mb=torch_mem_mb,
    params:
        settings=train_settings,
        key=model_key,
        checkpoint_path=f"{DENSE_DIR}/train_checkpoint.pt",
    script:
        "../workflow_scripts/train_dense.py"


rule train_ticket:
    input:
        init_path=INIT,
        mask_path=f"{MODEL_DIR}/mask.pt",
        dense_record_path=f"{DENSE_DIR}/train.json",
    output:
        model_path=f"{MODEL_DIR}/model.pt",
        record_path=f"{MODEL_DIR}/train.json",
    log:
        f"{LOGS}/train_ticket/{{dataset}}_{{arch}}_{{run}}_sparsity{{sparsity}}.log",
    benchmark:
        f"{BENCHMARKS}/train_ticket/{{dataset}}_{{arch}}_{{run}}_sparsity{{sparsity}}.tsv"
    wildcard_constraints:
        sparsity=NONZERO_SPARSITY_PATTERN,
    conda:
        "../envs/torch.yaml"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=gpu_request,
        runtime=train_runtime,
        mem_mb=torch_mem_mb,
    params:
        settings=train_settings,
        key=model_key,
        checkpoint_path=f"{MODEL_DIR}/train_checkpoint.pt",
    script:
        "../workflow_scripts/train_ticket.py"
