"""The published shape of `GET /api/v1/campaigns/{id}/totaux` (amounts as two-decimal strings)."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from aap.schemas import Euros

Share = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]


class Amounts(BaseModel):
    dossiers: int = Field(description="Dossiers comptés (lignes de cofinancement, par financeur).")
    demande: Euros
    propose: Euros
    accorde: Euros
    paye: Euros


class FinanceurTotal(Amounts):
    financeur: str
    financeur_name: str
    paye: Euros | None = Field(  # type: ignore[assignment]
        description="Versé ; null pour l'agent d'un autre financeur (il ne voit que ses versements)"
    )


class OrientationTotal(Amounts):
    orientation: str | None = Field(description="Code de l'orientation ; vide : non renseignée.")
    label: str | None


class QpvTotal(Amounts):
    qpv: str
    name: str


class PlaceTotal(Amounts):
    """A place that is not a QPV (quartier de veille, territoire à enjeux): counted apart (P147)."""

    code: str
    name: str
    kind: str = Field(description="`quartier_veille` ou `territoire_enjeux`.")


class Delay(BaseModel):
    median_jours: float | None = Field(description="Médiane en jours ; vide tant que rien n'est mesuré.")
    dossiers: int


class Delays(BaseModel):
    depot_decision: Delay
    decision_convention: Delay
    decision_premier_paiement: Delay


class OwnTotals(BaseModel):
    """A financer's agent: the same figures counted on its own lines only."""

    financeur: str | None
    total: Amounts
    orientations: list[OrientationTotal]
    orientations_racines: list[OrientationTotal]
    qpv: list[QpvTotal]
    hors_qpv: list[PlaceTotal] = Field(default_factory=list)


class CpoShare(BaseModel):
    financeur: str
    montant_cpo: Euros
    montant_total: Euros
    part: Share = Field(description="Part sous CPO, de 0 à 1 (chaîne décimale).")
    actions_cpo: int
    actions_total: int
    cible: Share


class TotauxOut(BaseModel):
    campaign_id: int
    total: Amounts
    financeurs: list[FinanceurTotal]
    orientations: list[OrientationTotal] = Field(description="Par code d'orientation renseigné.")
    orientations_racines: list[OrientationTotal] = Field(
        description="Par orientation de premier niveau, objectifs compris."
    )
    qpv: list[QpvTotal] = Field(description="Un dossier compte en entier dans chacun de ses QPV.")
    hors_qpv: list[PlaceTotal] = Field(
        default_factory=list,
        description="Quartiers de veille et territoires à enjeux : leur argent n'est pas celui des QPV.",
    )
    delais: Delays
    propre: OwnTotals | None = Field(description="Pour l'agent d'un financeur : ses seules lignes.")
    cpo: list[CpoShare]
