"""The end of the year: the bilan of each funded action, the focus bénéficiaires, the annual report."""
