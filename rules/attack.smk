# Stage 5: every attack of the grid on one model's outputs, for one sample count n, scored on
# the fixed evaluation rows. One job per (model, n): 4 attacks share one read of the outputs.


rule run_attacks:
    input:
        outputs=f"{MODEL_DIR}/outputs.parquet",
        record=f"{MODEL_DIR}/train.json",
    output:
        results=attack_result_files(),
    log:
        f"{LOGS}/run_attacks/{{dataset}}_{{arch}}_seed{{seed}}_sparsity{{sparsity}}_n{{n}}.log",
    conda:
        "../envs/attack.yaml"
    threads: config["compute"]["attack_threads"]
    params:
        settings={"attack": config["attack"]},
        attacks=config["grid"]["attacks"],
        key=lambda w: {**model_key(w), "n_samples": int(w.n)},
    script:
        "../workflow_scripts/run_attacks.py"


rule summarize:
    input:
        attack_results(),
    output:
        summary=f"{RESULTS}/summary.parquet",
    log:
        f"{LOGS}/summarize.log",
    conda:
        "../envs/attack.yaml"
    script:
        "../workflow_scripts/summarize.py"
