# Stage 4: every model's outputs on the same member and non-member samples, in eval mode.


rule export_outputs:
    input:
        model=f"{MODEL_DIR}/model.pt",
        record=f"{MODEL_DIR}/train.json",
    output:
        outputs=f"{MODEL_DIR}/outputs.parquet",
    log:
        f"{LOGS}/export_outputs/{{dataset}}_{{arch}}_seed{{seed}}_sparsity{{sparsity}}.log",
    benchmark:
        f"{BENCHMARKS}/export_outputs/{{dataset}}_{{arch}}_seed{{seed}}_sparsity{{sparsity}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=gpu_request,
        runtime=export_runtime,
        mem_mb=torch_mem_mb,
    params:
        settings=export_params,
        key=run_key,
    script:
        "../workflow_scripts/export_outputs.py"
