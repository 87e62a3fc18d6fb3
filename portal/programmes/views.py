"""Programme pages (being built)."""

from flask import Blueprint

bp = Blueprint("programmes", __name__, url_prefix="/<tenant>/programmes")
