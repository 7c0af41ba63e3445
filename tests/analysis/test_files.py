"""The one file reader: regular files only, size checked before reading, each refusal a clear sentence."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from margincall.analysis.files import read_text
from margincall.errors import InputFileError


def test_reads_utf8_and_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes("\ufeffname: café\n".encode())
    assert read_text(path) == "name: café\n"


def _refusal(path: str | Path) -> str:
    with pytest.raises(InputFileError) as info:
        read_text(path)
    assert info.value.path == os.fspath(path)
    return info.value.reason


def test_missing_file(tmp_path: Path) -> None:
    assert _refusal(tmp_path / "missing.yaml") == "not found"


def test_folder(tmp_path: Path) -> None:
    assert "is a folder" in _refusal(tmp_path)


def test_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done: list[str] = []
    worker = threading.Thread(target=lambda: done.append(_refusal(fifo)), daemon=True)
    worker.start()
    worker.join(10)
    assert done and "named pipe" in done[0]


def test_dev_zero_is_not_read() -> None:
    started = time.monotonic()
    assert "character device" in _refusal("/dev/zero")
    assert time.monotonic() - started < 5  # refused before reading, not after filling memory


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    assert "loops" in _refusal(tmp_path / "a.yaml")


def test_name_too_long(tmp_path: Path) -> None:
    assert "too long" in _refusal(tmp_path / ("x" * 300 + ".yaml"))


def test_nul_in_path() -> None:
    assert "not a usable path" in _refusal("a\x00b.yaml")


def test_size_is_checked_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: 1\n" * 100, encoding="utf-8")
    monkeypatch.setenv("MARGINCALL_MAX_FILE_BYTES", "100")
    reason = _refusal(path)
    assert "500, above the bound of 100 bytes" in reason and "MARGINCALL_MAX_FILE_BYTES=500" in reason
    monkeypatch.setenv("MARGINCALL_MAX_FILE_BYTES", "500")
    assert read_text(path).count("\n") == 100


def test_sparse_file_over_the_bound_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(50_000_000)  # 50 MB of holes: refused from its size alone
    assert "50,000,000" in _refusal(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"a: 1\nname: caf\xe9\n")
    assert "not UTF-8 text (byte 14 on line 2)" in _refusal(path)


def test_unreadable(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    path.chmod(0)
    assert "permission denied" in _refusal(path)


def test_head_reads_whole_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("date,a\n" + "2020-01-01,1.0\n" * 10_000, encoding="utf-8")
    head = read_text(path, bound="prices_bytes", head=100)
    assert head.startswith("date,a\n") and head.endswith("\n") and len(head) <= 100
