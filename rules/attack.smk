# Stage 5: every attack of the grid on one model's outputs, for one sample count n, scored on
# the fixed evaluation rows. One job per (model, n): 4 attacks share one read of the outputs.


rule run_attacks:
    input:
        outputs_path=f"{MODEL_DIR}/outputs.parquet",
        record_path=f"{MODEL_DIR}/train.json",
    output:
        attack_dir=directory(ATTACK_DIR),
    log:
        f"{LOGS}/run_attacks/{{dataset}}/{{arch}}/{{run}}/{{model}}_n{{n}}.log",
    benchmark:
        f"{BENCHMARKS}/run_attacks/{{dataset}}/{{arch}}/{{run}}/{{model}}_n{{n}}.tsv"
    group:
        ATTACK_GROUP
    conda:
        "../envs/attack.yaml"
    threads: config["compute"]["attack_threads"]
    resources:
        runtime=attack_runtime,
    params:
        settings={"attack": supervised_attack_settings()},
        attack_names=rule_params.job_attacks(config, references=False),
        key=lambda w: {**model_key(w), "n_samples": int(w.n)},
    script:
        "../workflow_scripts/run_attacks.py"


rule summarize:
    input:
        attack_dirs(grid_results()),
    output:
        summary_path=f"{RESULTS}/summary.parquet",
    log:
        f"{LOGS}/summarize.log",
    benchmark:
        f"{BENCHMARKS}/summarize.tsv"
    localrule: True
    conda:
        "../envs/attack.yaml"
    params:
        attack_paths=attack_results(),
    script:
        "../workflow_scripts/summarize.py"
