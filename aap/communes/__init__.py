"""Communes of a metropolitan contract: validation of each commune's part of the programme, its
reminders, and what a commune's agents see."""
