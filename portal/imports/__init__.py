"""Imports: one table reader (:mod:`.table`) and the check-then-confirm steps every import
goes through (:mod:`.service`, :mod:`.web`, templates/imports/_macros.html)."""
