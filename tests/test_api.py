"""The Python API example of docs/api.md runs as written, on people the test draws."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import write_face_dataset

API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def api_example() -> str:
    return re.search(r"```python\n(.*?)```", API_PAGE.read_text(), re.DOTALL).group(1)


def test_the_documented_python_example_runs(tmp_path: Path, capsys, monkeypatch) -> None:
    write_face_dataset(tmp_path / "people", identities=8, samples=4)
    others = write_face_dataset(tmp_path / "other_people", identities=4, samples=4)
    for index, name in enumerate(("alice", "bob", "carol", "dave"), start=1):
        (others / f"p{index}").rename(others / name)
    monkeypatch.chdir(tmp_path)
    exec(compile(api_example(), "docs/api.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"threshold \d\.\d{3} at eer", printed[0])
    assert re.fullmatch(r"EER on strangers: \d+\.\d%", printed[1])
    assert re.fullmatch(r"other_people/alice/2\.pgm (accept|reject) \d\.\d+", printed[2])
    assert printed[3] == "(1, 128) ['alice']"  # two members of 64
