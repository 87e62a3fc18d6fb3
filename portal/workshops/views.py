"""Workshop pages (being built)."""

from flask import Blueprint

bp = Blueprint("workshops", __name__, url_prefix="/<tenant>/workshops")
