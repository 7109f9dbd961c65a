"""The bodies of `aap notifications run` and `aap notifications preview` (wired in `aap/cli.py`)."""

from __future__ import annotations

import typer

from aap.rules_files import RulesFileError


def run(now_option: str | None) -> None:
    from aap.clock import now as clock_now
    from aap.db import get_engine
    from aap.settings import get_settings
    from notifications.cron import parse_now, run_pass
    from notifications.rules import default_rules

    try:
        now = parse_now(now_option, clock_now())
    except ValueError as exc:
        typer.echo(
            f"--now invalide : {now_option!r} (attendu : 2027-01-23 ou 2027-01-23T07:00:00+01:00)", err=True
        )
        raise typer.Exit(2) from exc
    try:
        rules = default_rules()
    except RulesFileError as exc:
        typer.echo(f"notifications/rules.yaml refusé : {exc.report()}", err=True)
        raise typer.Exit(1) from exc
    try:
        summary = run_pass(get_engine(), get_settings(), now, rules=rules)
    except ValueError as exc:  # AAP_SMTP_URL malformed
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(summary.text())
    from aap.attachments.files import sweep_data_dir

    if swept := sweep_data_dir():
        typer.echo(swept)


def preview(rule: str, html: bool) -> None:
    from aap.settings import get_settings
    from notifications.preview import preview as render_preview
    from notifications.rules import default_rules

    try:
        rendered = render_preview(rule, base_url=get_settings().base_url)
    except KeyError as exc:
        codes = ", ".join(r.code for r in default_rules().rules)
        typer.echo(f"Règle « {rule} » inconnue. Règles : {codes}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Objet : {rendered.subject}\n")
    typer.echo(rendered.html if html else rendered.text)
