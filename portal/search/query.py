"""What a person typed into the search box, as words the index can look up.

Only letters and digits are searched: operators of either database's query language (FTS5's
AND/OR/NEAR, quotes, stars, columns; tsquery's & | ! :*) are never passed through, so no input
can be a syntax error. Every word must match; the last one also as the start of a word (so
"arct" finds "Arctic" while typing).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

MAX_LENGTH = 200
MAX_WORDS = 8
MAX_WORD_LENGTH = 60
# Letters and digits of any script; "_" and every other sign separate words, as the
# databases' tokenizers do.
_WORD = re.compile(r"[^\W_]+")


def _latin_letters_with_marks() -> dict[int, str]:
    """Each letter of Latin-1 and Latin Extended-A/B that is a base letter with combining marks
    (ö, å, é, ř), to its base letter: what SQLite's FTS5 folds (remove_diacritics) and the
    PostgreSQL index folds with translate() (migration 8c1e5a7d3b20 holds the same letters).
    ø, æ, ł and ß are letters of their own and stay, on both."""
    fold = {}
    for code in range(0xC0, 0x250):
        parts = unicodedata.normalize("NFD", chr(code))
        base, marks = parts[0], parts[1:]
        with_marks = marks and all(unicodedata.combining(mark) for mark in marks)
        if with_marks and base.isascii() and base.isalpha():
            fold[code] = base
    return fold


FOLD = _latin_letters_with_marks()


class QueryProblem(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Terms:
    words: tuple[str, ...]
    # More words were typed than are searched (the first MAX_WORDS are).
    shortened: bool = False


def parse(raw: str | None) -> Terms:
    text = (raw or "").strip()
    if not text:
        raise QueryProblem(_l("Type a word or a name to search for."))
    if len(text) > MAX_LENGTH:
        raise QueryProblem(
            _l(
                "The search is too long: use at most %(max)d characters.",
                max=MAX_LENGTH,
            )
        )
    words = [w.casefold()[:MAX_WORD_LENGTH] for w in _WORD.findall(text)]
    if not words:
        raise QueryProblem(_l("Search for words or numbers: the search had no letters or digits."))
    unique = list(dict.fromkeys(words))
    return Terms(tuple(unique[:MAX_WORDS]), shortened=len(unique) > MAX_WORDS)


def fts5_query(terms: Terms) -> str:
    """FTS5: every word as a quoted string (no operator survives), the last also a prefix."""
    quoted = [f'"{w}"' for w in terms.words]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(terms: Terms) -> str:
    """PostgreSQL ``to_tsquery``: the words joined by &, the last also a prefix (:*). The
    words hold letters and digits only, so nothing in them is tsquery syntax."""
    parts = [word.translate(FOLD) for word in terms.words]  # as the index folds them
    parts[-1] += ":*"
    return " & ".join(parts)
