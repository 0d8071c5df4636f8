"""orbitjax.io.atomic.write_atomic: a file is written whole or not at all."""

import pytest

from orbitjax.io.atomic import write_atomic


def test_text_and_binary_files_are_written_whole(tmp_path):
    text = write_atomic(tmp_path / "sub" / "a.csv", lambda f: f.write("x,y\r\n1,2\n"))
    assert text.read_bytes() == b"x,y\r\n1,2\n"  # newlines as written, folder created
    assert text.stat().st_mode & 0o777 == 0o644
    data = write_atomic(tmp_path / "b.bin", lambda f: f.write(b"\x00\xff"), binary=True, mode=None)
    assert data.read_bytes() == b"\x00\xff" and data.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.csv", "b.bin", "sub"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = write_atomic(tmp_path / "a.txt", lambda f: f.write("old"))

    def fail(f):
        f.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
