from __future__ import annotations

from tests.builder.helpers import tree
from zpanel_builder.procfile import parse, web_command


def test_parse_skips_comments_and_keeps_the_last_duplicate() -> None:
    text = "# c\nweb: a\n\nworker:   python w.py  \nweb:b --x=1\nnot a line\n"
    assert parse(text) == {"web": "b --x=1", "worker": "python w.py"}


def test_web_command_from_a_tree() -> None:
    assert web_command(tree("python-procfile")) == "gunicorn --bind 0.0.0.0:$PORT wsgi:app"
    assert web_command(tree("python-plain")) is None
