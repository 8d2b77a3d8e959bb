"""The ``themes suggest`` contract and its error messages (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.theming import synthetic_comments
from theming.embed import HashingEmbedder
from theming.suggest import InputError, main, read_comments, suggest


def write(tmp_path: Path, content: bytes | str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_output_lists_every_id_exactly_once(fake: HashingEmbedder) -> None:
    comments = synthetic_comments()
    result = suggest(comments, fake)
    listed = [m for t in result["themes"] for m in t["members"]] + result["unassigned"]
    assert sorted(listed) == sorted(c.id for c in comments)
    assert {"id", "label", "members"} <= set(result["themes"][0])
    assert all(t["members"] and t["label"] for t in result["themes"])


def test_reads_ids_text_and_optional_table(tmp_path: Path) -> None:
    path = write(tmp_path, '\ufeffid,text,table,extra\n1,More parks,7,x\n2,"Buses, later",,y\n')
    comments = read_comments(path)
    assert [(c.id, c.text, c.table) for c in comments] == [
        ("1", "More parks", "7"),
        ("2", "Buses, later", None),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"id,body\n1,x\n", "lacks column(s) text"),
        (b"id,text\n", "no comments"),
        (b"id,text\n1,a\n2,b\n1,c\n", "duplicate id '1'"),
        (b"id,text\n1,caf\xe9\n", "not UTF-8"),
    ],
)
def test_bad_input_gives_a_clear_error_and_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(InputError) as caught:
        read_comments(path)
    assert message in str(caught.value)
    assert main(path, tmp_path / "out.json", show_progress=False) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out.json").exists()


def test_missing_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(tmp_path / "nope.csv", tmp_path / "out.json", show_progress=False) == 2
    assert "cannot read" in capsys.readouterr().err
