#!/usr/bin/env bash
# GPU readiness check (benchmarks/gpu_check.py): throughput, memory, the in-memory data path vs a
# DataLoader, export rate, a tiny end-to-end DAG on the GPU, and the estimated GPU-hours of
# configs/paper.yaml. One GPU, under 8 minutes, fabricated data; exit status 1 if a self-check
# fails, 124 if it ran out of time. Run from anywhere:
#   benchmarks/gpu_check.sh                    # writes gpu_check.json in the current folder
#   benchmarks/gpu_check.sh --json out.json    # extra arguments go to gpu_check.py
#   benchmarks/gpu_check.sh --device cpu --skip-compile   # the CPU smoke run (toy sizes)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
[[ -x "$python" ]] || python="$(command -v python3)"
export PYTHONHASHSEED=0
"$python" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda,
  "devices:", [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())])'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
exec timeout "${GPU_CHECK_TIMEOUT_S:-480}" "$python" "$repo/benchmarks/gpu_check.py" "$@"
