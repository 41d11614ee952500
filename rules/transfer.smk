# Stage 6: an attack trained on one model's outputs attacks every other model of the dataset;
# the matrix holds every model pair, the cells (Figure 4) each kind pair over its seed pairs.


rule transfer:
    input:
        outputs_paths=lambda w: [
            f"{model['dir']}/outputs.parquet" for model in dataset_models(w.dataset)
        ],
    output:
        matrix_path=f"{RESULTS}/{{dataset}}/transfer/{{attack}}_n{{n}}.parquet",
        cells_path=f"{RESULTS}/{{dataset}}/transfer/{{attack}}_n{{n}}.cells.parquet",
    log:
        f"{LOGS}/transfer/{{dataset}}_{{attack}}_n{{n}}.log",
    benchmark:
        f"{BENCHMARKS}/transfer/{{dataset}}_{{attack}}_n{{n}}.tsv"
    conda:
        "../envs/attack.yaml"
    threads: config["compute"]["attack_threads"]
    resources:
        mem_mb=transfer_mem_mb,
        runtime=transfer_runtime,
    params:
        settings=attack_settings,
        model_keys=lambda w: [model["key"] for model in dataset_models(w.dataset)],
        attack="{attack}",
        n_samples=lambda w: int(w.n),
    script:
        "../workflow_scripts/transfer.py"
