# Stage 2: one-shot global magnitude pruning of the trained dense weights -> mask.


rule prune:
    input:
        dense_model_path=f"{DENSE_DIR}/model.pt",
        dense_record_path=f"{DENSE_DIR}/train.json",
    output:
        mask_path=f"{MODEL_DIR}/mask.pt",
    log:
        f"{LOGS}/prune/{{dataset}}_{{arch}}_{{run}}_sparsity{{sparsity}}.log",
    wildcard_constraints:
        sparsity=NONZERO_SPARSITY_PATTERN,
    conda:
        "../envs/torch.yaml"
    threads: 1
    params:
        sparsity=lambda w: float(w.sparsity),
        exclude=config["pruning"]["exclude"],
    script:
        "../workflow_scripts/prune.py"
