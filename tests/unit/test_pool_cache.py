"""Pool sizes are counted once per state of the data on disk, and failures are never remembered."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lottery_mia.data.pool_cache import cached_pool_sizes, data_fingerprint


class Counter:
    """A stand-in for ``data.pool_sizes`` that counts its calls."""

    def __init__(self, sizes=(100, 40), error: Exception | None = None):
        self.calls = 0
        self.sizes = sizes
        self.error = error

    def __call__(self, name, settings):
        self.calls += 1
        if self.error:
            raise self.error
        return self.sizes


def image_tree(root: Path) -> Path:
    for split in ("train", "val"):
        for label in ("n01", "n02"):
            folder = root / split / label
            folder.mkdir(parents=True)
            (folder / "a.JPEG").write_bytes(b"")
    return root


def test_unchanged_data_is_counted_once(tmp_path):
    root = image_tree(tmp_path / "imagenet")
    count = Counter()
    pool_sizes = cached_pool_sizes(count, tmp_path / "cache.json")
    settings = {"root": str(root)}
    assert pool_sizes("imagenet", settings) == (100, 40)
    assert cached_pool_sizes(count, tmp_path / "cache.json")("imagenet", settings) == (100, 40)
    assert count.calls == 1


def test_a_file_added_to_a_class_folder_counts_again(tmp_path):
    root = image_tree(tmp_path / "imagenet")
    count = Counter()
    pool_sizes = cached_pool_sizes(count, tmp_path / "cache.json")
    pool_sizes("imagenet", {"root": str(root)})
    folder = root / "train" / "n02"
    (folder / "b.JPEG").write_bytes(b"")
    # Adding a file moves the folder's mtime; within one clock tick of its creation the file
    # system may not show it, so the tick the test cannot wait for is made explicit.
    stat = folder.stat()
    os.utime(folder, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    pool_sizes("imagenet", {"root": str(root)})
    assert count.calls == 2


def test_a_replaced_batch_file_counts_again(tmp_path):
    root = tmp_path / "cifar" / "cifar-10-batches-py"
    root.mkdir(parents=True)
    (root / "data_batch_1").write_bytes(b"x" * 10)
    count = Counter()
    pool_sizes = cached_pool_sizes(count, tmp_path / "cache.json")
    pool_sizes("cifar10", {"root": str(tmp_path / "cifar")})
    (root / "data_batch_1").write_bytes(b"x" * 9)  # truncated
    pool_sizes("cifar10", {"root": str(tmp_path / "cifar")})
    assert count.calls == 2


def test_other_settings_or_another_dataset_count_again(tmp_path):
    root = image_tree(tmp_path / "imagenet")
    count = Counter()
    pool_sizes = cached_pool_sizes(count, tmp_path / "cache.json")
    pool_sizes("imagenet", {"root": str(root)})
    pool_sizes("imagenet", {"root": str(root), "image_size": 64})
    pool_sizes("imagenet", {"root": str(root), "image_size": 64})
    assert count.calls == 2


def test_failures_are_reported_every_time(tmp_path):
    count = Counter(error=ValueError("damaged batch"))
    pool_sizes = cached_pool_sizes(count, tmp_path / "cache.json")
    for _ in range(2):
        with pytest.raises(ValueError, match="damaged batch"):
            pool_sizes("cifar10", {"root": str(tmp_path)})
    assert count.calls == 2
    assert not (tmp_path / "cache.json").exists()


def test_data_without_a_root_is_counted_every_time(tmp_path):
    count = Counter()
    pool_sizes = cached_pool_sizes(count, tmp_path / "cache.json")
    pool_sizes("digits", {})
    pool_sizes("digits", {})
    assert count.calls == 2


def test_an_unwritable_or_corrupt_cache_is_ignored(tmp_path):
    root = image_tree(tmp_path / "imagenet")
    blocked = tmp_path / "file"
    blocked.write_text("")
    count = Counter()
    assert cached_pool_sizes(count, blocked / "cache.json")("imagenet", {"root": str(root)}) == (
        100,
        40,
    )
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json")
    assert cached_pool_sizes(count, corrupt)("imagenet", {"root": str(root)}) == (100, 40)


def test_fingerprint_reads_two_levels_and_not_the_images(tmp_path):
    root = image_tree(tmp_path / "imagenet")
    paths = [path for path, _, _ in data_fingerprint(root)]
    assert paths == [".", "train", "train/n01", "train/n02", "val", "val/n01", "val/n02"]
    assert data_fingerprint(tmp_path / "missing") == []
