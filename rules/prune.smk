# Stage 2: one-shot global magnitude pruning of the trained dense weights -> mask.


rule prune:
    input:
        dense_model=DENSE_DIR + "/model.pt",
        dense_record=DENSE_DIR + "/train.json",
    output:
        mask=MODEL_DIR + "/mask.pt",
    wildcard_constraints:
        sparsity=NONZERO_SPARSITY_PATTERN,
    params:
        sparsity=lambda w: float(w.sparsity),
        pruning=config["pruning"],
    log:
        LOGS + "/prune/{dataset}_{arch}_seed{seed}_sparsity{sparsity}.log",
    threads: 1
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/prune.py"
