# Stage 4: every model's outputs on the same member and non-member samples, in eval mode.


rule export_outputs:
    input:
        model_path=f"{MODEL_DIR}/model.pt",
        record_path=f"{MODEL_DIR}/train.json",
    output:
        outputs_path=f"{MODEL_DIR}/outputs.parquet",
    log:
        f"{LOGS}/export_outputs/{{dataset}}/{{arch}}/{{run}}/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/export_outputs/{{dataset}}/{{arch}}/{{run}}/{{model}}.tsv"
    group:
        GPU_GROUP
    conda:
        "../envs/torch.yaml"
    threads: config["compute"]["train_threads"]
    resources:
        gpu=shared_gpu_request,
        runtime=export_runtime,
        mem_mb=torch_mem_mb,
    params:
        settings=export_settings,
        key=model_key,
    script:
        "../workflow_scripts/export_outputs.py"
