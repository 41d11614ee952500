# Stage 5: one attack model per (model, attack, sample count), scored on fixed evaluation rows.


rule run_attack:
    input:
        outputs=f"{MODEL_DIR}/outputs.parquet",
        record=f"{MODEL_DIR}/train.json",
    output:
        result=f"{MODEL_DIR}/attack/{{attack}}_n{{n}}.json",
    log:
        f"{LOGS}/run_attack/{{dataset}}_{{arch}}_seed{{seed}}_sparsity{{sparsity}}_{{attack}}_n{{n}}.log",
    conda:
        "../envs/attack.yaml"
    threads: config["compute"]["attack_threads"]
    params:
        settings=attack_params,
        key=lambda w: {**run_key(w), "attack": w.attack, "n_samples": int(w.n)},
    script:
        "../workflow_scripts/run_attack.py"


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
