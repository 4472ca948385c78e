"""`pipeline config`: the effective settings (secrets hidden), or the table of variables."""

from __future__ import annotations

import click
from pydantic import AliasChoices, SecretStr

from pipeline.settings import Settings, get_settings

# Defaults computed at run time, shown as a reader would write them.
_FACTORY_DEFAULTS = {"cache_dir": "~/.cache/ct-pipeline", "state_dir": "~/.local/state/ct-pipeline"}


def env_name(field_name: str) -> str:
    """The environment variable that sets `field_name`."""
    alias = Settings.model_fields[field_name].validation_alias
    assert isinstance(alias, AliasChoices)
    first = alias.choices[0]
    assert isinstance(first, str)
    return first


def variables_table() -> str:
    """A Markdown table of every environment variable, its default and meaning."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        if info.default_factory is not None:
            default = _FACTORY_DEFAULTS[name]
        else:
            default = "" if info.default is None else str(info.default)
        lines.append(f"| `{env_name(name)}` | `{default}` | {info.description or ''} |")
    return "\n".join(lines)


@click.command("config")
@click.option("--table", is_flag=True, help="Print the Markdown table of all variables instead.")
def config(table: bool) -> None:
    """Show the effective configuration read from the environment (secrets are masked)."""
    if table:
        click.echo(variables_table())
        return
    settings = get_settings()
    for name in Settings.model_fields:
        value = getattr(settings, name)
        shown = "**********" if isinstance(value, SecretStr) else value
        click.echo(f"{env_name(name)}={'' if shown is None else shown}")
