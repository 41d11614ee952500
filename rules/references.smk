# Reference models (issue 10): K models per dataset, architecture and referenced sparsity, made by
# the same rules as the targets (run = ref{k}), each on its half of the exported rows.


rule reference_keep:
    output:
        keep_path=REFERENCE_KEEP,
    log:
        f"{LOGS}/reference_keep/{{dataset}}.log",
    benchmark:
        f"{BENCHMARKS}/reference_keep/{{dataset}}.tsv"
    conda:
        "../envs/attack.yaml"
    params:
        dataset="{dataset}",
        data=lambda w: data_settings(config, w.dataset),
        outputs=config["outputs"],
        n_references=config["attack"]["reference_models"],
        keep_seed=config["attack"]["reference_seed"],
    script:
        "../workflow_scripts/reference_keep.py"


# LiRA's and RMIA's statistics of one target model (run = seed{N}): φ and log p_y of the target
# and of the K references of its architecture, method and sparsity, read once for every n.
rule reference_statistics:
    input:
        outputs_path=f"{MODEL_DIR}/outputs.parquet",
        reference_paths=reference_output_paths,
        keep_path=REFERENCE_KEEP,
    output:
        statistics_path=REFERENCE_STATISTICS,
    log:
        f"{LOGS}/reference_statistics/{{dataset}}/{{arch}}/{{run}}/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/reference_statistics/{{dataset}}/{{arch}}/{{run}}/{{model}}.tsv"
    wildcard_constraints:
        run=r"seed\d+",
    conda:
        "../envs/attack.yaml"
    threads: config["compute"]["attack_threads"]
    resources:
        mem_mb=reference_mem_mb,
    script:
        "../workflow_scripts/reference_statistics.py"


# LiRA, RMIA (from those statistics) and the shadow attack (the K references' outputs, read one at
# a time) on one target model and sample count n.
rule reference_attacks:
    input:
        unpack(reference_statistics_input),
        outputs_path=f"{MODEL_DIR}/outputs.parquet",
        record_path=f"{MODEL_DIR}/train.json",
        reference_paths=reference_output_paths,
        keep_path=REFERENCE_KEEP,
    output:
        attack_dir=directory(REFERENCE_ATTACK_DIR),
    log:
        f"{LOGS}/reference_attacks/{{dataset}}/{{arch}}/{{run}}/{{model}}_n{{n}}.log",
    benchmark:
        f"{BENCHMARKS}/reference_attacks/{{dataset}}/{{arch}}/{{run}}/{{model}}_n{{n}}.tsv"
    wildcard_constraints:
        run=r"seed\d+",
    conda:
        "../envs/attack.yaml"
    threads: config["compute"]["attack_threads"]
    resources:
        mem_mb=reference_mem_mb,
        runtime=reference_attack_runtime,
    params:
        settings={"attack": reference_attack_settings()},
        attack_names=rule_params.job_attacks(config, references=True),
        key=lambda w: {**model_key(w), "n_samples": int(w.n)},
        largest_n=lambda w: max(sample_counts(config, w.dataset)),
    script:
        "../workflow_scripts/reference_attacks.py"
