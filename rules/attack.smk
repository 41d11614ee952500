# Stage 5: one attack model per (model, attack, sample count), scored on fixed evaluation rows.


rule run_attack:
    input:
        outputs=MODEL_DIR + "/outputs.parquet",
        record=MODEL_DIR + "/train.json",
    output:
        result=MODEL_DIR + "/attack/{attack}_n{n}.json",
    params:
        settings=attack_params,
        key=lambda w: {**run_key(w), "attack": w.attack, "n_samples": int(w.n)},
    log:
        LOGS + "/run_attack/{dataset}_{arch}_seed{seed}_sparsity{sparsity}_{attack}_n{n}.log",
    threads: config["compute"]["attack_threads"]
    conda:
        "../envs/attack.yaml"
    script:
        "../workflow_scripts/run_attack.py"


rule summarize:
    input:
        attack_results(),
    output:
        summary=RESULTS + "/summary.parquet",
    log:
        LOGS + "/summarize.log",
    conda:
        "../envs/attack.yaml"
    script:
        "../workflow_scripts/summarize.py"
