"""RGPD: the access log, the retention rules, and a person's data (export and erasure)."""
