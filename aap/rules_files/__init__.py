"""Declarative rules files: territories and campaigns, validated with every error and its place.

``aap territory load FILE`` and ``aap campaign load FILE`` read these files; the formats are
described in ``docs/territory-files.md``.
"""

from aap.rules_files.campaign import (
    CAMPAIGN_KINDS,
    CampaignFile,
    CampaignFinanceurSpec,
    FormRef,
    parse_campaign,
    parse_campaign_file,
)
from aap.rules_files.territory import (
    FINANCEUR_KINDS,
    CommuneSpec,
    FinanceurSpec,
    FlatOrientation,
    HorsQpvSpec,
    OrientationSpec,
    Periode,
    PrioriteSpec,
    QpvSpec,
    TerritoryFile,
    parse_territory,
    parse_territory_file,
)
from aap.rules_files.yaml_locations import LocatedError, RulesFileError

__all__ = [
    "CAMPAIGN_KINDS",
    "FINANCEUR_KINDS",
    "CampaignFile",
    "CampaignFinanceurSpec",
    "CommuneSpec",
    "FinanceurSpec",
    "FlatOrientation",
    "HorsQpvSpec",
    "FormRef",
    "LocatedError",
    "OrientationSpec",
    "Periode",
    "PrioriteSpec",
    "QpvSpec",
    "RulesFileError",
    "TerritoryFile",
    "parse_campaign",
    "parse_campaign_file",
    "parse_territory",
    "parse_territory_file",
]
