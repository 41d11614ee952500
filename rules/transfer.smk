# Stage 6: an attack trained on one model's outputs attacks every other model of the dataset.


rule transfer:
    input:
        outputs=lambda w: [f"{d}/outputs.parquet" for d in model_dirs(w.dataset)],
    output:
        matrix=RESULTS + "/{dataset}/transfer/{attack}_n{n}.parquet",
    params:
        settings=attack_params,
        models=lambda w: model_keys(w.dataset),
    log:
        LOGS + "/transfer/{dataset}_{attack}_n{n}.log",
    threads: config["compute"]["attack_threads"]
    conda:
        "../envs/attack.yaml"
    script:
        "../workflow_scripts/transfer.py"
