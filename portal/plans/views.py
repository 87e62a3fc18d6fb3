"""Plan and action pages (being built)."""

from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/<tenant>")
