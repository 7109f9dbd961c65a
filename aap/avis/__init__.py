"""Avis of partners and sector services on a dossier (the « première lecture » before the comité)."""
