"""`pipeline --help`: every command once, under its section, each described in one style."""

from __future__ import annotations

import re

from click.testing import CliRunner

from pipeline.cli.main import SECTIONS, cli


def test_every_command_is_listed_once_under_a_section() -> None:
    listed = [name for entries in SECTIONS.values() for name, _, _ in entries]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(cli.commands)
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    headings = re.findall(r"^(\S[^\n]*):$", result.output, flags=re.M)
    assert headings[-len(SECTIONS) :] == list(SECTIONS)
    commands = result.output.split(f"{next(iter(SECTIONS))}:", 1)[1]
    for name in listed:
        assert len(re.findall(rf"^  {re.escape(name)}\s", commands, flags=re.M)) == 1, name


def test_the_lines_read_alike_an_imperative_phrase_without_a_full_stop() -> None:
    for entries in SECTIONS.values():
        for name, _, line in entries:
            assert re.fullmatch(r"[A-Z][a-z]+[ ,][^.]+[^. ]", line), (name, line)
            assert len(line) <= 60, (name, line)
            # the line is whole in --help: click would cut it with "..." past its limit
            assert cli.commands[name].get_short_help_str(limit=80) == line


def test_each_command_keeps_its_own_help() -> None:
    for name in cli.commands:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f"Usage: cli {name}" in result.output or f"Usage: pipeline {name}" in result.output
