"""The database model: territory, campaigns, organisations, accounts, dossiers, money, messages.

One module so that relationships read in one place; the rules live in `workflows/` and `forms/`,
the writes in each domain's `service.py`.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship

from aap.types import Money, UTCDateTime, utcnow

JSONType = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, nullable=False)


# --- Territory -----------------------------------------------------------------------------------


class Territory(Base):
    """A contrat de ville: its communes, QPV, orientation tree, priorities and financers."""

    __tablename__ = "territories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    epci: Mapped[str | None] = mapped_column(String(300))
    periode_debut: Mapped[int | None]
    periode_fin: Mapped[int | None]
    # the IANA zone its documents are dated in (a decision at 00:49 in Paris on the 2nd is of the 2nd)
    fuseau: Mapped[str] = mapped_column(String(64), default="Europe/Paris", server_default="Europe/Paris")
    created_at: Mapped[datetime] = created()

    communes: Mapped[list["Commune"]] = relationship(back_populates="territory", order_by="Commune.id")
    qpvs: Mapped[list["Qpv"]] = relationship(back_populates="territory", order_by="Qpv.id")
    orientations: Mapped[list["Orientation"]] = relationship(order_by="Orientation.position")
    priorities: Mapped[list["Priority"]] = relationship(order_by="Priority.position")
    financeurs: Mapped[list["Financeur"]] = relationship(back_populates="territory", order_by="Financeur.id")


class Commune(Base):
    __tablename__ = "communes"
    __table_args__ = (UniqueConstraint("territory_id", "insee"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    insee: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(200))
    territory: Mapped[Territory] = relationship(back_populates="communes")


PLACE_KINDS = ("qpv", "quartier_veille", "territoire_enjeux")


class Qpv(Base):
    """A place an action may target: a QPV, or (`kind`) a quartier de veille or a territoire à enjeux
    the territory file names, whose money is counted apart from the QPV's."""

    __tablename__ = "qpvs"
    __table_args__ = (UniqueConstraint("territory_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    commune_insee: Mapped[str] = mapped_column(String(5))
    population: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(32), default="qpv", server_default="qpv")
    territory: Mapped[Territory] = relationship(back_populates="qpvs")


class Orientation(Base):
    """A node of the contract's orientation tree (orientation, objectif, sous-objectif…)."""

    __tablename__ = "orientations"
    __table_args__ = (UniqueConstraint("territory_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(String(32))
    depth: Mapped[int] = mapped_column(default=0)
    position: Mapped[int] = mapped_column(default=0)


class Priority(Base):
    """A cross-cutting priority (jeunesse, égalité femmes-hommes…)."""

    __tablename__ = "priorities"
    __table_args__ = (UniqueConstraint("territory_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(default=0)


class Partenaire(Base):
    """A financer declared once (the State in a département, a département, a CAF) and referenced by
    each territory it funds in: its name and kind are kept in one place."""

    __tablename__ = "partenaires"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))


class Financeur(Base):
    __tablename__ = "financeurs"
    __table_args__ = (UniqueConstraint("territory_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    # a commune's own budget: its agents validate that commune's part and see its QPV's dossiers
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    # declared once for several territories (`aap partenaire load`): its name and kind come from there
    partenaire_id: Mapped[int | None] = mapped_column(ForeignKey("partenaires.id"))
    # open data (décret 2017-779): its SIRET, the yearly amount from which its grants are published,
    # and whether it publishes the smaller ones too
    siret: Mapped[str | None] = mapped_column(String(14))
    opendata_seuil: Mapped[Decimal] = mapped_column(
        Money, default=Decimal("23000.00"), server_default="2300000"
    )
    opendata_sous_seuil: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # who signs its conventions and letters (the territory file's `signataire`)
    signataire_nom: Mapped[str | None] = mapped_column(String(200))
    signataire_qualite: Mapped[str | None] = mapped_column(String(300))
    territory: Mapped[Territory] = relationship(back_populates="financeurs")


# --- Campaigns -----------------------------------------------------------------------------------


class Campaign(Base):
    """An appel à projets: its calendar (dates by name), its form version, its financers."""

    __tablename__ = "campaigns"
    # a code names a call within its territory: the same code in two territories is two campaigns
    __table_args__ = (UniqueConstraint("territory_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    calendar: Mapped[str] = mapped_column(String(64))
    dates: Mapped[dict[str, str]] = mapped_column(JSONType)
    depot_ouverture: Mapped[date] = mapped_column(Date)
    depot_cloture: Mapped[date] = mapped_column(Date, index=True)
    form_code: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int]
    late_completion: Mapped[bool] = mapped_column(Boolean, default=False)
    # the call accepts groups of inhabitants without SIRET (the FPH): `groupes_habitants` of its file
    inhabitant_groups: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # `globale` (one validation of the whole programme) or `par_commune` (`CampaignCommune`)
    validation: Mapped[str] = mapped_column(String(16), default="globale", server_default="globale")
    created_at: Mapped[datetime] = created()
    # the territory's zone, read with the campaign (no second query): its deadlines are days of that
    # clock (`aap.clock.territory_today`)
    fuseau: Mapped[str] = column_property(
        select(Territory.fuseau)
        .where(Territory.id == territory_id)
        .correlate_except(Territory)
        .scalar_subquery()
    )

    territory: Mapped[Territory] = relationship()
    financeurs: Mapped[list["CampaignFinanceur"]] = relationship(
        back_populates="campaign", order_by="CampaignFinanceur.position", cascade="all, delete-orphan"
    )

    def date_of(self, name: str) -> date | None:
        value = self.dates.get(name)
        return date.fromisoformat(value) if value else None

    def parsed_dates(self) -> dict[str, date]:
        return {k: date.fromisoformat(v) for k, v in self.dates.items()}


class CampaignFinanceur(Base):
    """A financer solicited by a campaign, with its enveloppe for that call."""

    __tablename__ = "campaign_financeurs"
    __table_args__ = (UniqueConstraint("campaign_id", "financeur_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    financeur_id: Mapped[int] = mapped_column(ForeignKey("financeurs.id", ondelete="CASCADE"))
    enveloppe: Mapped[Decimal] = mapped_column(Money)
    position: Mapped[int] = mapped_column(default=0)
    campaign: Mapped[Campaign] = relationship(back_populates="financeurs")
    financeur: Mapped[Financeur] = relationship()


class CampaignCommune(Base):
    """A commune's part of a `par_commune` campaign: the date of its instance and its validation."""

    __tablename__ = "campaign_communes"
    __table_args__ = (UniqueConstraint("campaign_id", "commune_insee"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    commune_insee: Mapped[str] = mapped_column(String(5))
    validation_date: Mapped[date] = mapped_column(Date, index=True)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)


class EnveloppeChange(Base):
    __tablename__ = "enveloppe_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_financeur_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_financeurs.id", ondelete="CASCADE")
    )
    old_amount: Mapped[Decimal | None] = mapped_column(Money)
    new_amount: Mapped[Decimal] = mapped_column(Money)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = created()
    comment: Mapped[str | None] = mapped_column(Text)


# --- Organisations and accounts ----------------------------------------------------------------


# A group of inhabitants without legal form (no SIRET), through a referent inhabitant: it files to the
# calls that accept such groups (`Campaign.inhabitant_groups`, the FPH).
GROUPE_HABITANTS = "groupe_habitants"
ORGANISATION_KINDS = ("association", GROUPE_HABITANTS)


class Organisation(Base):
    """A porteur: an association or a public body, or a group of inhabitants (`GROUPE_HABITANTS`)."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"))
    kind: Mapped[str] = mapped_column(String(32), default="association")
    name: Mapped[str] = mapped_column(String(300))
    siret: Mapped[str | None] = mapped_column(String(14), index=True)
    rna: Mapped[str | None] = mapped_column(String(10))
    address_line: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(200))
    representative_name: Mapped[str | None] = mapped_column(String(200))
    representative_first_name: Mapped[str | None] = mapped_column(String(200))
    representative_role: Mapped[str | None] = mapped_column(String(200))
    representative_email: Mapped[str | None] = mapped_column(String(320))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = created()

    def profile(self) -> dict[str, Any]:
        keys = [
            "name",
            "siret",
            "rna",
            "kind",
            "address_line",
            "postal_code",
            "city",
            "representative_name",
            "representative_first_name",
            "representative_role",
            "representative_email",
            "phone",
            "email",
        ]
        return {k: getattr(self, k) for k in keys}


ROLES = ("admin", "instructeur", "porteur", "financeur", "partenaire")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    financeur_id: Mapped[int | None] = mapped_column(ForeignKey("financeurs.id"))
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created()
    # carried in every bearer token and session cookie: bumping it (logout, new password, deactivation)
    # cuts them all at once
    session_generation: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # None until the owner follows the link sent to the address: no other mail goes to it before (set
    # at creation by default: accounts opened by the team or by scripts have a known address)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # set when the team erased the person's data (RGPD, `aap.rgpd.personal_data`): the row stays, so
    # that the dossiers' history keeps « a porteur did this », without a name or an address
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    financeur: Mapped[Financeur | None] = relationship()
    territory: Mapped[Territory | None] = relationship()
    organisations: Mapped[list[Organisation]] = relationship(
        secondary="memberships", order_by="Organisation.id"
    )


class TerritoryMembership(Base):
    """One more contract a staff account works in (a State agent, an instructeur shared between
    contracts): its role there and, for a financer's agent, which financer. The account's own
    `territory_id`/`financeur_id` stay its home; a request names another (`X-Aap-Territoire`)."""

    __tablename__ = "territory_memberships"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    financeur_id: Mapped[int | None] = mapped_column(ForeignKey("financeurs.id"))


class Membership(Base):
    __tablename__ = "memberships"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AccountToken(Base):
    """A link sent by e-mail (verify an address, reset a password, accept an invitation): only its hash
    is stored; it works once, until `expires_at`."""

    __tablename__ = "account_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = created()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JoinRequest(Base):
    """Someone who registered with the SIRET of a known organisation asks its members to join it."""

    __tablename__ = "join_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="en_attente")
    created_at: Mapped[datetime] = created()
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


# --- Dossiers -----------------------------------------------------------------------------------


class Dossier(Base):
    """One action filed by an organisation in a campaign, and where it stands in its year."""

    __tablename__ = "dossiers"
    __table_args__ = (
        # by state, with the budget: the programme's count and budget read from the index alone
        Index("ix_dossiers_campaign_state_budget", "campaign_id", "state", "budget_total"),
        UniqueConstraint("campaign_id", "number"),
        # an orientation and its descendants, counted by state from the index alone
        Index("ix_dossiers_campaign_orientation_state", "campaign_id", "orientation_code", "state"),
        # a campaign's dossiers in id order: the programme's keyset pages and the lists' pages in number
        # order read from the index, stopped at their limit
        Index("ix_dossiers_campaign_id_id", "campaign_id", "id"),
        # a CPO gets one yearly dossier per campaign, however many cron passes race to make it
        UniqueConstraint("cpo_id", "campaign_id", name="uq_dossiers_cpo_campaign"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # numbered per territory and year (`DossierCounter`): another territory's count never shows
    number: Mapped[str] = mapped_column(String(40))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    form_code: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int]
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    title: Mapped[str | None] = mapped_column(String(300))
    reconducted_from_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    # the CPO whose yearly dossier this is (a lighter form than the guichet unique)
    cpo_id: Mapped[int | None] = mapped_column(
        # deferred: a dossier row may be restored (backup, demo snapshot) before its CPO row
        ForeignKey("cpos.id", ondelete="SET NULL", use_alter=True, deferrable=True, initially="DEFERRED"),
        index=True,
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = created()

    # deadlines the reminders hang on (indexed: the cron pass asks by date, not by dossier)
    extension_until: Mapped[date | None] = mapped_column(Date, index=True)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    complements_due: Mapped[date | None] = mapped_column(Date, index=True)
    complements_message: Mapped[str | None] = mapped_column(Text)
    # the answers when compléments were asked, to show what changed when they come back
    answers_at_complements: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # the documents the instructeur asked for with the compléments: [{"kind": …, "label": …}]
    complements_pieces: Mapped[list[dict[str, str]] | None] = mapped_column(JSONType)
    bilan_due: Mapped[date | None] = mapped_column(Date, index=True)
    avis: Mapped[str | None] = mapped_column(String(16))

    # time stamps that measure the public service (dépôt → décision → notification → paiement)
    deposited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    instruction_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instruit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    avis_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conventionne_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bilan_deposited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # read from the answers on every save (`aap.dossiers.search_columns`), so lists filter and sum in SQL
    orientation_code: Mapped[str | None] = mapped_column(String(32))
    budget_total: Mapped[Decimal | None] = mapped_column(Money)

    campaign: Mapped[Campaign] = relationship()
    organisation: Mapped[Organisation] = relationship()
    cofinancements: Mapped[list["Cofinancement"]] = relationship(
        back_populates="dossier", order_by="Cofinancement.id", cascade="all, delete-orphan"
    )


class DossierTarget(Base):
    """A territory code the dossier's answers refer to (`kind`: `qpv` — a QPV or a place hors QPV — or
    `orientation`), kept with each save so who sees what, the QPV filter, the totals per place and
    commune and the reload checks are SQL, not JSON scans. The one table of a dossier's places."""

    __tablename__ = "dossier_targets"
    # (code, kind): a QPV filter asks both; a join by dossier never starts from `kind` alone
    __table_args__ = (Index("ix_dossier_targets_code_kind", "code", "kind"),)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)


class DossierCounter(Base):
    """The last dossier number given in a territory for a year (numbers are per territory)."""

    __tablename__ = "dossier_counters"
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CampaignSum(Base):
    """The running totals of a campaign's counted dossiers (`aap.financing.summary`), kept in the
    transaction that changes them: per orientation (`dim` `o`) or QPV (`q`) code (`""`: none) and
    financer, the lines and their amounts in cents; `financeur_id` 0 counts the dossiers."""

    __tablename__ = "campaign_sums"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    dim: Mapped[str] = mapped_column(String(1), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    financeur_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    demande: Mapped[int] = mapped_column(BigInteger, default=0)
    propose: Mapped[int] = mapped_column(BigInteger, default=0)
    accorde: Mapped[int] = mapped_column(BigInteger, default=0)
    paye: Mapped[int] = mapped_column(BigInteger, default=0)


class CampaignDelay(Base):
    """How many of a campaign's counted dossiers (or lines) took `days` for a délai (`kind`), kept
    with `CampaignSum`: the medians are read from these histograms."""

    __tablename__ = "campaign_delays"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class DossierEvent(Base):
    """The history: one row per transition, written with the state change."""

    __tablename__ = "dossier_events"
    # the digest asks for one step's rows by day (budgets ajustés filed, conventions made)
    __table_args__ = (Index("ix_dossier_events_transition_at", "transition", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    transition: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = created()
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class DossierMessage(Base):
    """The dialogue around a dossier: a message between the porteur and the team (`echange`), or a
    staff note the porteur never sees (`interne`)."""

    __tablename__ = "dossier_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_email: Mapped[str] = mapped_column(String(320))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    author_role: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created()


class AvisPartenaire(Base):
    """An avis asked of a partner or a sector service (the « première lecture »), and its answer."""

    __tablename__ = "avis_partenaires"
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    question: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    requested_at: Mapped[datetime] = created()
    avis: Mapped[str | None] = mapped_column(String(16))
    texte: Mapped[str | None] = mapped_column(Text)
    given_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the digest of avis received

    partner: Mapped[User] = relationship(foreign_keys=[partner_id])
    dossier: Mapped[Dossier] = relationship()


class Cofinancement(Base):
    """A dossier's line for one solicited financer: requested, proposed, decided, paid."""

    __tablename__ = "cofinancements"
    __table_args__ = (
        UniqueConstraint("dossier_id", "financeur_id"),
        # the per-financer sums (enveloppes, CPO share, programme totals) read from the index alone
        Index(
            "ix_cofinancements_amounts",
            "dossier_id",
            "financeur_id",
            "decision",
            "montant_demande",
            "montant_propose",
            "montant_accorde",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    financeur_id: Mapped[int] = mapped_column(ForeignKey("financeurs.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="sollicite")
    montant_demande: Mapped[Decimal] = mapped_column(Money)
    montant_propose: Mapped[Decimal | None] = mapped_column(Money)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(16))
    montant_accorde: Mapped[Decimal | None] = mapped_column(Money)
    motif: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    dossier: Mapped[Dossier] = relationship(back_populates="cofinancements")
    financeur: Mapped[Financeur] = relationship()
    payments: Mapped[list["Payment"]] = relationship(order_by="Payment.id", cascade="all, delete-orphan")


class Payment(Base):
    """An avance or a solde paid on a cofinancement line."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    cofinancement_id: Mapped[int] = mapped_column(
        ForeignKey("cofinancements.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    paid_on: Mapped[date] = mapped_column(Date)
    montant: Mapped[Decimal] = mapped_column(Money)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = created()


class Attachment(Base):
    """A stored file (by content hash under AAP_DATA_DIR): a pièce of an organisation or a dossier."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    financeur_id: Mapped[int | None] = mapped_column(ForeignKey("financeurs.id"))
    # a file sent with a message of the dialogue: read by whoever reads that message, never listed
    # among the dossier's pièces
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossier_messages.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = created()
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DossierPiece(Base):
    """A pièce a deposited dossier relies on (written with `answers.pieces` when it leaves the porteur's
    hands): the versions in force that financers read, and that the retention pass never deletes."""

    __tablename__ = "dossier_pieces"
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True)
    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class IdempotencyKey(Base):
    """A request already answered: a retried request gets the same answer, never a second effect."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[Any] = mapped_column(JSONType)
    created_at: Mapped[datetime] = created()


class LoginCounter(Base):
    """Failed logins of one account or one client address in one window (`aap.accounts.login`), shared
    by every worker process. The key is a hash: no address nor e-mail is stored here."""

    __tablename__ = "login_counters"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)


# --- Messages -----------------------------------------------------------------------------------


class Notification(Base):
    """The outbox: a message recorded once under its unique key, then delivered by SMTP."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    rule: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created()
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # who the message speaks to (porteurs, instructeurs, financeurs): decides who sees it in the log
    audience: Mapped[str | None] = mapped_column(String(16))
    # the pass that holds the lease (claimed_until): only it may mark the message sent
    claim_token: Mapped[str | None] = mapped_column(String(36))


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class NotificationDossier(Base):
    """A line of a digest: the dossier it lists (so the dossier shows the digest in its log) and the
    item key (rule, dossier, recipient, occurrence) that keeps an item from being listed twice."""

    __tablename__ = "notification_dossiers"
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    item_key: Mapped[str] = mapped_column(String(300), index=True)


# --- Bilans and the focus bénéficiaires --------------------------------------------------------------


class Bilan(Base):
    """The bilan a conventioned dossier owes: its answers on the bilan form, versioned like a dossier.

    Its state follows the dossier's (`a_faire`, `brouillon` while conventionné; `depose`; `a_corriger`
    once sent back; `valide` when the dossier is closed). `correction_due` is set only while the bilan
    is sent back (the reminders of a returned bilan hang on it).
    """

    __tablename__ = "bilans"
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="a_faire", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    form_code: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int]
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    due_date: Mapped[date | None] = mapped_column(Date)
    correction_due: Mapped[date | None] = mapped_column(Date, index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = created()
    deposited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the retention pass reduced its beneficiaries to their total (`aap retention run`)
    beneficiaires_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dossier: Mapped[Dossier] = relationship()


class BilanFigure(Base):
    """One figure of a bilan, kept in rows so the annual report adds them up in SQL: `dimension` is
    `sexe`, `age`, `qpv` (counts in `realise`), `financeur`, `orientation` (money prévu/réalisé) or
    `indicateur` (`key` the indicator, `texte` the value reached)."""

    __tablename__ = "bilan_figures"
    __table_args__ = (Index("ix_bilan_figures_dimension_key", "dimension", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bilan_id: Mapped[int] = mapped_column(ForeignKey("bilans.id", ondelete="CASCADE"), index=True)
    dimension: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(300))
    prevu: Mapped[Decimal | None] = mapped_column(Money)
    realise: Mapped[Decimal | None] = mapped_column(Money)
    texte: Mapped[str | None] = mapped_column(Text)


class FocusSession(Base):
    """A focus bénéficiaires session of a territory and year (date, time, place, quartier)."""

    __tablename__ = "focus_sessions"
    __table_args__ = (Index("ix_focus_sessions_territory_annee", "territory_id", "annee"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    annee: Mapped[int]
    date: Mapped[date] = mapped_column(Date)
    heure: Mapped[str | None] = mapped_column(String(5))
    lieu: Mapped[str] = mapped_column(String(300))
    qpv_code: Mapped[str | None] = mapped_column(String(32))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created()


class FocusParticipation(Base):
    """What a funded operator brings to a session: counts by profile, never a person's name."""

    __tablename__ = "focus_participations"
    __table_args__ = (UniqueConstraint("focus_id", "dossier_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    focus_id: Mapped[int] = mapped_column(ForeignKey("focus_sessions.id", ondelete="CASCADE"), index=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    femmes: Mapped[int] = mapped_column(Integer, default=0)
    hommes: Mapped[int] = mapped_column(Integer, default=0)
    ages: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created()


class FocusContribution(Base):
    """What a session said: a theme, words, proposals for the next call."""

    __tablename__ = "focus_contributions"
    id: Mapped[int] = mapped_column(primary_key=True)
    focus_id: Mapped[int] = mapped_column(ForeignKey("focus_sessions.id", ondelete="CASCADE"), index=True)
    theme: Mapped[str] = mapped_column(String(200))
    texte: Mapped[str] = mapped_column(Text)
    propositions: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created()


# --- CPO (conventions pluriannuelles d'objectifs) ---------------------------------------------------


class Cpo(Base):
    """A 2- to 4-year agreement with an organisation on one action, signed by its financers."""

    __tablename__ = "cpos"
    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    dossier_origine_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    action: Mapped[str] = mapped_column(String(300))
    objectifs: Mapped[str | None] = mapped_column(Text)
    indicateurs: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    motif_resiliation: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created()
    updated_at: Mapped[datetime] = created()

    # its territory's zone, read with it: its years begin and end on that calendar
    fuseau: Mapped[str] = column_property(
        select(Territory.fuseau)
        .where(Territory.id == territory_id)
        .correlate_except(Territory)
        .scalar_subquery()
    )

    organisation: Mapped[Organisation] = relationship()
    dossier_origine: Mapped[Dossier] = relationship(foreign_keys=[dossier_origine_id])
    annees: Mapped[list["CpoAnnee"]] = relationship(
        back_populates="cpo", order_by="CpoAnnee.annee", cascade="all, delete-orphan"
    )
    signataires: Mapped[list["CpoSignataire"]] = relationship(
        back_populates="cpo", order_by="CpoSignataire.position", cascade="all, delete-orphan"
    )


class CpoSignataire(Base):
    """A financer that signs the CPO, and when its agent signed (null: not yet)."""

    __tablename__ = "cpo_signataires"
    __table_args__ = (UniqueConstraint("cpo_id", "financeur_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cpo_id: Mapped[int] = mapped_column(ForeignKey("cpos.id", ondelete="CASCADE"))
    financeur_id: Mapped[int] = mapped_column(ForeignKey("financeurs.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cpo: Mapped[Cpo] = relationship(back_populates="signataires")
    financeur: Mapped[Financeur] = relationship()


class CpoAnnee(Base):
    """One year of a CPO and, once made, its yearly dossier."""

    __tablename__ = "cpo_annees"
    __table_args__ = (UniqueConstraint("cpo_id", "annee"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cpo_id: Mapped[int] = mapped_column(ForeignKey("cpos.id", ondelete="CASCADE"))
    annee: Mapped[int]
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="SET NULL"), unique=True
    )
    cpo: Mapped[Cpo] = relationship(back_populates="annees")
    dossier: Mapped[Dossier | None] = relationship(foreign_keys=[dossier_id])
    montants: Mapped[list["CpoMontant"]] = relationship(
        back_populates="annee", order_by="CpoMontant.id", cascade="all, delete-orphan"
    )


class CpoMontant(Base):
    """What one financer plans for one year of the CPO (« sous réserve du vote des crédits »)."""

    __tablename__ = "cpo_montants"
    __table_args__ = (UniqueConstraint("cpo_annee_id", "financeur_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cpo_annee_id: Mapped[int] = mapped_column(ForeignKey("cpo_annees.id", ondelete="CASCADE"))
    financeur_id: Mapped[int] = mapped_column(ForeignKey("financeurs.id"), index=True)
    prevu: Mapped[Decimal] = mapped_column(Money)
    annee: Mapped[CpoAnnee] = relationship(back_populates="montants")
    financeur: Mapped[Financeur] = relationship()


class CpoEvent(Base):
    """The CPO's history: transitions, signatures, advances recorded before the bilan, with who and why."""

    __tablename__ = "cpo_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    cpo_id: Mapped[int] = mapped_column(ForeignKey("cpos.id", ondelete="CASCADE"), index=True)
    transition: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = created()
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


# --- RGPD ----------------------------------------------------------------------------------------------


class AccessLog(Base):
    """One read of sensitive data (a RIB, a pièce, beneficiaries' figures, an account's data) or one
    write, by whom, from where (`aap.access_log`). Written in the transaction of the write it
    records; kept as long as the retention file says."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_user_at", "user_id", "at"),
        Index("ix_access_log_kind_object", "kind", "object_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))  # `read` or `write`
    kind: Mapped[str] = mapped_column(String(64))  # the table of the object: `attachments`, `dossiers`…
    object_id: Mapped[str | None] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))
