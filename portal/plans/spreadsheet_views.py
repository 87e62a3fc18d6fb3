"""Spreadsheet export and import of plans and programmes (being built)."""

from flask import Blueprint

bp = Blueprint("spreadsheets", __name__, url_prefix="/<tenant>")
