# Stage 4: every model's outputs on the same member and non-member samples, in eval mode.


rule export_outputs:
    input:
        model=MODEL_DIR + "/model.pt",
        record=MODEL_DIR + "/train.json",
    output:
        outputs=MODEL_DIR + "/outputs.parquet",
    params:
        settings=export_params,
        key=run_key,
    log:
        LOGS + "/export_outputs/{dataset}_{arch}_seed{seed}_sparsity{sparsity}.log",
    benchmark:
        BENCHMARKS + "/export_outputs/{dataset}_{arch}_seed{seed}_sparsity{sparsity}.tsv"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=gpu_request,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/export_outputs.py"
