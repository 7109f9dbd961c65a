"""The `aap` command: database, demo, rules files, serving, and the cron pass."""

import os
from pathlib import Path

import typer

app = typer.Typer(help="aap : le moteur des appels à projets des contrats de ville.", no_args_is_help=True)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
territory_app = typer.Typer(help="Territoires (contrats de ville).", no_args_is_help=True)
campaign_app = typer.Typer(help="Appels à projets.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(territory_app, name="territory")
app.add_typer(campaign_app, name="campaign")
calendar_app = typer.Typer(help="Calendriers types (données de territoire).", no_args_is_help=True)
form_app = typer.Typer(help="Formulaires (données de territoire).", no_args_is_help=True)
partenaire_app = typer.Typer(
    help="Financeurs déclarés une fois pour plusieurs territoires.", no_args_is_help=True
)
app.add_typer(partenaire_app, name="partenaire")
app.add_typer(calendar_app, name="calendar")
app.add_typer(form_app, name="form")
admin_app = typer.Typer(help="Comptes d'administration d'un territoire.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
notifications_app = typer.Typer(help="Relances et messages (passe cron).", no_args_is_help=True)
app.add_typer(notifications_app, name="notifications")
secret_app = typer.Typer(help="Clé secrète (AAP_SECRET_KEY).", no_args_is_help=True)
app.add_typer(secret_app, name="secret")
retention_app = typer.Typer(help="Durées de conservation (RGPD).", no_args_is_help=True)
app.add_typer(retention_app, name="retention")
bench_app = typer.Typer(help="Données de volume pour les mesures.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@app.callback()
def _wire() -> None:
    """Every command runs with the transition effects table filled (see aap/wiring.py) and sees the
    calendars and forms territories loaded (under AAP_DATA_DIR)."""
    from aap.rules_files.data_files import use_data_files
    from aap.settings import get_settings
    from aap.wiring import wire

    wire()
    use_data_files(get_settings().data_dir)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Applique les migrations Alembic à AAP_DATABASE_URL."""
    from aap.db import get_engine
    from aap.migrate import upgrade

    upgrade(get_engine())
    typer.echo("Base de données à jour.")


@app.command()
def demo(
    reset: bool = typer.Option(False, "--reset", help="Vide la base avant de charger la démo."),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Ne fait rien si la base contient déjà des données."
    ),
) -> None:
    """Charge le territoire de démonstration (DLVAgglo / Manosque)."""
    from aap.db import get_engine
    from aap.demo.loader import DemoRefused, load_demo

    try:
        summary = load_demo(get_engine(), reset=reset, if_empty=if_empty)
    except DemoRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(summary)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int | None = typer.Option(None, help="Par défaut AAP_PORT (8000)."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Processus servant les requêtes (par défaut : un par processeur)."
    ),
    limit_concurrency: int | None = typer.Option(
        None,
        "--limit-concurrency",
        min=1,
        help="Au-delà de ce nombre de requêtes en cours par processus, répondre 503 plutôt que tout ralentir "
        "(par défaut : 4 × AAP_THREADS).",
    ),
) -> None:
    """Sert l'application web et l'API (uvicorn) : N processus, chacun avec AAP_THREADS fils d'exécution
    et jusqu'à une connexion à la base par requête admise (--limit-concurrency)."""
    from aap.security.secret_key import UnsafeSecretKey, check_serving_key
    from aap.serving import default_workers, run_server
    from aap.settings import get_settings

    settings = get_settings()
    try:
        check_serving_key(settings)
    except UnsafeSecretKey as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    from aap.attachments.files import sweep_data_dir

    if swept := sweep_data_dir():
        typer.echo(swept)
    # the limit is the app's (`aap.serving.ConcurrencyLimit`: a 503 with Retry-After), in every worker
    os.environ["AAP_LIMIT_CONCURRENCY"] = str(limit_concurrency or 4 * settings.threads)
    get_settings.cache_clear()  # one worker runs in this process: it reads the limit too
    run_server("aap.main:app", host=host, port=port or settings.port, workers=workers or default_workers())


@app.command("backup")
def backup_command(
    file: Path = typer.Argument(..., dir_okay=False, help="L'archive à écrire (.tar.gz)."),
) -> None:
    """Sauvegarde cohérente de la base et des fichiers, sans arrêter l'application."""
    from aap.backup import backup
    from aap.db import get_engine
    from aap.settings import get_settings

    manifest = backup(get_engine(), get_settings().data_dir, file)
    rows = sum(manifest["rows"].values())
    typer.echo(f"Sauvegarde écrite : {file} ({rows} lignes, {manifest['files']} fichiers).")
    if manifest["missing_files"]:
        typer.echo(f"Attention : {len(manifest['missing_files'])} fichier(s) absent(s) du disque.", err=True)


@app.command("restore")
def restore_command(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="L'archive de aap backup."
    ),
) -> None:
    """Restaure une sauvegarde dans une base vide (refuse une base qui contient des données)."""
    from aap.backup import BackupError, restore
    from aap.db import get_engine
    from aap.settings import get_settings

    try:
        manifest = restore(get_engine(), get_settings().data_dir, file)
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Restauré : {sum(manifest['rows'].values())} lignes, {manifest['files']} fichiers.")


@secret_app.command("init")
def secret_init(
    env_file: Path = typer.Option(Path(".env"), "--env-file", help="Le fichier .env à compléter."),
) -> None:
    """Écrit une clé aléatoire AAP_SECRET_KEY dans .env s'il n'en contient pas (jamais remplacée)."""
    from aap.security.secret_key import ensure_env_key

    if ensure_env_key(env_file):
        typer.echo(f"Clé secrète aléatoire écrite dans {env_file}.")
    else:
        typer.echo(f"{env_file} contient déjà AAP_SECRET_KEY : inchangée.")


def _load_rules_file(kind: str, path: Path) -> None:
    from aap.campaigns.service import save_campaign
    from aap.db import session_scope
    from aap.models import Campaign, Territory
    from aap.rules_files import RulesFileError, parse_campaign_file, parse_territory_file
    from aap.territories.service import save_territory

    try:
        with session_scope() as session:
            saved: Territory | Campaign
            if kind == "territory":
                saved = save_territory(session, parse_territory_file(path))
            else:
                saved = save_campaign(session, parse_campaign_file(path), source=str(path))
            label = f"{saved.code} ({saved.id})"
    except RulesFileError as exc:
        typer.echo(f"{path} refusé, rien n'a été écrit ({len(exc.errors)} erreur(s)) :", err=True)
        for error in exc.errors:
            typer.echo(f"  {error}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Chargé : {label}")


@territory_app.command("load")
def territory_load(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Charge un territoire depuis un fichier YAML (refusé en entier à la moindre erreur)."""
    _load_rules_file("territory", file)


@campaign_app.command("load")
def campaign_load(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Charge un appel à projets depuis un fichier YAML (refusé en entier à la moindre erreur)."""
    _load_rules_file("campaign", file)


@admin_app.command("create")
def admin_create(
    territory: str = typer.Option(..., "--territory", help="Code du territoire (déjà chargé)."),
    email: str = typer.Option(..., "--email"),
    name: str = typer.Option("", "--name", help="Nom et prénom."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Lit le mot de passe sur l'entrée standard (sinon : un lien)."
    ),
) -> None:
    """Crée l'admin d'un territoire : affiche un lien à usage unique pour choisir son mot de passe."""
    import sys

    from aap.db import session_scope
    from aap.errors import AppError
    from aap.settings import get_settings
    from aap.territories.onboarding import LINK_HOURS, create_admin, set_password_token

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    settings = get_settings()
    try:
        with session_scope() as session:
            user = create_admin(session, territory=territory, email=email, name=name, password=password)
            token = None if password_stdin else set_password_token(settings.secret_key, user)
            label = f"{user.email} (admin du territoire {territory})"
    except AppError as exc:
        typer.echo(f"{exc.message}", err=True)
        for error in exc.errors or []:
            typer.echo(f"  {error['path']}: {error['message']}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Compte créé : {label}")
    if token is not None:
        link = f"{settings.base_url.rstrip('/')}/mot-de-passe/{token}"
        typer.echo(f"Lien pour choisir le mot de passe (usage unique, valable {LINK_HOURS} h) :\n{link}")


@admin_app.command("import-staff")
def admin_import_staff(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    territory: str = typer.Option(..., "--territory", help="Code du territoire (déjà chargé)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Vérifie le fichier sans rien écrire ni envoyer."),
) -> None:
    """Invite l'équipe d'un territoire depuis un CSV (email;nom;role;financeur) : tout ou rien."""
    from aap.accounts.staff_invitation import import_staff
    from aap.clock import now
    from aap.db import session_scope
    from aap.errors import AppError
    from aap.settings import get_settings
    from aap.territories.service import get_by_code

    settings = get_settings()
    try:
        with session_scope() as session:
            found = get_by_code(session, territory)
            if found is None:
                typer.echo(
                    f"Territoire « {territory} » inconnu : chargez-le d'abord (aap territory load).", err=True
                )
                raise typer.Exit(1)
            invited = import_staff(
                session,
                None,
                found.id,
                file.read_bytes(),
                now=now(),
                base_url=settings.base_url,
                dry_run=dry_run,
            )
            lines = [f"  {u.email} ({u.role})" for u in invited]
    except AppError as exc:
        typer.echo(f"{file} refusé : {exc.message}", err=True)
        for error in exc.errors or []:
            typer.echo(f"  {error['message']}", err=True)
        raise typer.Exit(1) from exc
    if dry_run:
        typer.echo(f"Vérifié, rien n'a été écrit : {len(lines)} invitation(s) seraient envoyées.")
    else:
        from aap.accounts.mail import deliver_soon
        from aap.db import get_sessionmaker

        deliver_soon(get_sessionmaker(), settings)  # without AAP_SMTP_URL they wait in the outbox
        typer.echo(f"{len(lines)} invitation(s) envoyée(s) :")
    typer.echo("\n".join(lines))


def _load_data_file(kind: str, path: Path) -> None:
    from aap.db import session_scope
    from aap.rules_files import RulesFileError
    from aap.rules_files.data_files import load_calendar_file, load_form_file
    from aap.settings import get_settings

    data_dir = get_settings().data_dir
    try:
        if kind == "calendar":
            with session_scope() as session:
                label = f"calendrier « {load_calendar_file(session, path, data_dir)} »"
        else:
            code, version = load_form_file(path, data_dir)
            label = f"formulaire « {code} » version {version}"
    except RulesFileError as exc:
        typer.echo(f"{path} refusé, rien n'a été écrit ({len(exc.errors)} erreur(s)) :", err=True)
        for error in exc.errors:
            typer.echo(f"  {error}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Chargé : {label}")


@partenaire_app.command("load")
def partenaire_load(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Charge les partenaires financeurs communs à plusieurs territoires (refusé en entier à la moindre erreur)."""
    from aap.db import session_scope
    from aap.rules_files import RulesFileError
    from aap.rules_files.partenaires import parse_partenaires_file
    from aap.territories.partenaires import save_partenaires

    try:
        with session_scope() as session:
            codes = [p.code for p in save_partenaires(session, parse_partenaires_file(file))]
    except RulesFileError as exc:
        typer.echo(f"{file} refusé, rien n'a été écrit ({len(exc.errors)} erreur(s)) :", err=True)
        for error in exc.errors:
            typer.echo(f"  {error}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Chargé : {', '.join(codes)}")


@calendar_app.command("load")
def calendar_load(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Enregistre un calendrier type (YAML) ; les appels à projets peuvent ensuite le citer."""
    _load_data_file("calendar", file)


@form_app.command("load")
def form_load(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Enregistre un formulaire (YAML, une version) ; les appels à projets peuvent ensuite le citer."""
    _load_data_file("form", file)


@admin_app.command("membership")
def admin_membership(
    email: str = typer.Option(..., "--email", help="Un compte existant (instructeur, admin, agent)."),
    territory: str = typer.Option(..., "--territory", help="Le territoire où il travaille aussi."),
    role: str = typer.Option(..., "--role", help="admin, instructeur ou financeur"),
    financeur: str | None = typer.Option(None, "--financeur", help="Pour un agent : le code du financeur."),
) -> None:
    """Rattache un compte à un autre contrat de ville (une personne, plusieurs territoires)."""
    from aap.db import session_scope
    from aap.errors import AppError
    from aap.territories.memberships import add_membership

    try:
        with session_scope() as session:
            add_membership(session, email=email, territory=territory, role=role, financeur=financeur)
    except AppError as exc:
        typer.echo(exc.message, err=True)
        for error in exc.errors or []:
            typer.echo(f"  {error['path']}: {error['message']}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{email} travaille aussi dans le territoire {territory} ({role}).")


@notifications_app.command("run")
def notifications_run(
    now: str | None = typer.Option(None, "--now", help="Remplace l'horloge pour cette passe (ISO-8601)."),
) -> None:
    """Une passe cron : transitions datées, rappels dus, envoi SMTP (sans risque si relancée)."""
    from notifications.cli import run

    run(now)


@retention_app.command("run")
def retention_run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Compte ce qui serait effacé, n'efface rien."),
    as_json: bool = typer.Option(False, "--json", help="Le compte rendu en JSON."),
    rules: Path | None = typer.Option(
        None, "--rules", help="Le fichier des durées (par défaut celui du paquet)."
    ),
    now: str | None = typer.Option(None, "--now", help="Remplace l'horloge pour cette passe (ISO-8601)."),
) -> None:
    """Efface ce que les règles de conservation disent d'effacer, par lots (sans risque si relancée)."""
    import json
    from datetime import datetime

    from aap.clock import now as clock_now
    from aap.db import get_sessionmaker
    from aap.rgpd import retention
    from aap.rules_files import RulesFileError
    from aap.rules_files.retention import DEFAULT_FILE, parse_retention_file
    from aap.settings import get_settings

    path = rules or DEFAULT_FILE
    try:
        parsed = parse_retention_file(path)
    except RulesFileError as exc:
        typer.echo(f"{path} refusé, rien n'a été effacé ({len(exc.errors)} erreur(s)) :", err=True)
        for error in exc.errors:
            typer.echo(f"  {error}", err=True)
        raise typer.Exit(1) from exc
    moment = datetime.fromisoformat(now) if now else clock_now()
    report = retention.run(
        get_sessionmaker(), parsed, now=moment, data_dir=get_settings().data_dir, dry_run=dry_run
    )
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else retention.summary(report))


@notifications_app.command("preview")
def notifications_preview(
    rule: str = typer.Argument(..., help="Code de la règle (voir notifications/rules.yaml)."),
    html: bool = typer.Option(False, "--html", help="Affiche la version HTML."),
) -> None:
    """Affiche un message rendu avec des données de démonstration."""
    from notifications.cli import preview

    preview(rule, html)


@bench_app.command("generate")
def bench_generate(
    dossiers: int | None = typer.Option(
        None, "--dossiers", min=1, help="Nombre de dossiers (déposés et au-delà) d'un appel à projets."
    ),
    financeurs: int = typer.Option(4, "--financeurs", min=1, help="Lignes de cofinancement par dossier."),
    national: bool = typer.Option(
        False,
        "--national",
        help="Le jeu national : 435 contrats de ville, 1 500 QPV, 12 000 organisations, "
        "~25 000 dossiers par an à 4 financeurs, sur --years années.",
    ),
    years: int = typer.Option(10, "--years", min=1, help="Avec --national : années d'appels à projets."),
    territoires: int = typer.Option(
        435,
        "--territoires",
        min=1,
        hidden=True,
        help="Avec --national : moins de contrats, mêmes proportions.",
    ),
) -> None:
    """Ajoute à la base (migrée, démo chargée) un appel à projets du territoire de démonstration
    avec N dossiers dans des états réalistes (--dossiers N), ou le jeu national (--national)."""
    import time
    from dataclasses import replace

    from aap.db import get_engine
    from aap.demo.national import NATIONAL, generate_national
    from aap.demo.volume import GenerateRefused, generate

    if (dossiers is None) == (not national):
        typer.echo("Indiquez --dossiers N ou --national (l'un des deux).", err=True)
        raise typer.Exit(2)
    started = time.perf_counter()
    try:
        if national:
            scale = replace(NATIONAL.scaled(territoires), years=years)
            report = generate_national(get_engine(), scale)
        else:
            assert dossiers is not None
            campaign = generate(get_engine(), dossiers, financeurs)
    except GenerateRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    elapsed = time.perf_counter() - started
    if national:
        typer.echo(
            f"Jeu national : {report.territories} contrats de ville, {report.qpv} QPV, "
            f"{report.organisations} organisations, {report.campaigns} appels à projets, "
            f"{report.dossiers} dossiers, {report.lines} lignes de cofinancement, en {elapsed:.1f} s. "
            f"Le plus grand appel de l'année (id {report.biggest_campaign_id}, {report.biggest_dossiers} "
            f"dossiers) : {report.biggest_instructeur}, mot de passe des comptes de démonstration."
        )
        return
    typer.echo(
        f"Appel à projets {campaign.code} (id {campaign.id}) : {dossiers} dossiers, "
        f"{financeurs} financeurs chacun, en {elapsed:.1f} s."
    )


if __name__ == "__main__":
    app()
