# Stage 2: a ticket's mask, by the method of its folder (grid.pruning_methods). magnitude,
# random and reinit prune the trained dense model; IMP round r prunes the round r - 1 ticket (a
# chain of prune -> train_ticket jobs); snip, grasp and synflow score w0 and need no dense training.


rule initialise:
    output:
        init_path=INIT,
    log:
        f"{LOGS}/initialise/{{dataset}}_{{arch}}_{{run}}.log",
    benchmark:
        f"{BENCHMARKS}/initialise/{{dataset}}_{{arch}}_{{run}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    params:
        settings=init_settings,
        key=model_key,
    script:
        "../workflow_scripts/initialise.py"


rule prune:
    input:
        unpack(prune_inputs),
    output:
        mask_path=f"{TICKET_DIR}/mask.pt",
    log:
        f"{LOGS}/prune/{{dataset}}_{{arch}}_{{run}}_{{method}}_sparsity{{sparsity}}.log",
    benchmark:
        f"{BENCHMARKS}/prune/{{dataset}}_{{arch}}_{{run}}_{{method}}_sparsity{{sparsity}}.tsv"
    wildcard_constraints:
        sparsity=NONZERO_SPARSITY_PATTERN,
    conda:
        "../envs/torch.yaml"
    threads: 1
    params:
        method="{method}",
        sparsity=lambda w: float(w.sparsity),
        settings=prune_settings,
        key=model_key,
    script:
        "../workflow_scripts/prune.py"
