"""ResNet layouts without torch: block kind and blocks per stage, and the layer names they imply.

``models`` builds the networks from these layouts; the config gate reads the layer names at every
Snakefile parse (to check ``pruning.exclude``), which must not pay for importing torch.
"""

from __future__ import annotations

#: Block kind and number of blocks in each of the four stages (torchvision's layouts).
LAYOUTS: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
}
_CONVS_PER_BLOCK = {"basic": 2, "bottleneck": 3}


def prunable_layer_names(arch: str) -> list[str]:
    """Names of the conv and linear modules of ``arch``, in module order (as ``named_modules``).

    The first block of every stage but a basic-block ``layer1`` has a projection shortcut
    (``downsample.0``): its stride or width changes.
    """
    kind, stages = LAYOUTS[arch]
    names = ["conv1"]
    for stage, blocks in enumerate(stages, start=1):
        for block in range(blocks):
            prefix = f"layer{stage}.{block}"
            names += [f"{prefix}.conv{i}" for i in range(1, _CONVS_PER_BLOCK[kind] + 1)]
            if block == 0 and (stage > 1 or kind == "bottleneck"):
                names.append(f"{prefix}.downsample.0")
    return [*names, "fc"]
