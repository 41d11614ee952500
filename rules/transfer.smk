# Stage 6: an attack trained on one model's outputs attacks every other model of the dataset.


rule transfer:
    input:
        outputs=lambda w: [f"{d}/outputs.parquet" for d in model_dirs(w.dataset)],
    output:
        matrix=f"{RESULTS}/{{dataset}}/transfer/{{attack}}_n{{n}}.parquet",
    log:
        f"{LOGS}/transfer/{{dataset}}_{{attack}}_n{{n}}.log",
    conda:
        "../envs/attack.yaml"
    threads: config["compute"]["attack_threads"]
    resources:
        mem_mb=transfer_mem_mb,
    params:
        settings=attack_params,
        models=lambda w: model_keys(w.dataset),
    script:
        "../workflow_scripts/transfer.py"
