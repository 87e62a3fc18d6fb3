"""WTForms' checkbox and select widgets, rendering the same HTML several times faster.

A form with long lists (an action's responsible clusters: one checkbox per cluster of the
region; the workshops it may have been decided at) spent most of its render in WTForms'
``html_params``, which builds every attribute through ``Markup.format``: 0.5 ms a checkbox,
a quarter of a second for an action's form in a region of 500 clusters. :func:`html_params`
here is the same function on plain strings (tests/test_widgets.py compares the two on
generated attributes); the widgets use it and are otherwise WTForms' own. A list of checkboxes
(:func:`labelled_checkboxes`) also skips the subfield WTForms builds for each option.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets.core import clean_key


def _value(value) -> str:
    """An attribute's value as ``html_params`` writes it: escaped, and the double quotes of a
    ``Markup`` value too."""
    return str(escape(value)).replace('"', "&quot;")


def html_params(**kwargs) -> Markup:
    """``wtforms.widgets.html_params``, the same output: attributes sorted by name, ``True``
    as the bare name, ``False`` left out, values escaped (and double quotes of ``Markup``
    values too)."""
    params = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            params.append(clean_key(key))
        elif value is not False:
            params.append(f'{escape(clean_key(key))}="{_value(value)}"')
    return Markup(" ".join(params))  # noqa: S704 - each key and value escaped above


class CheckboxInput(widgets.CheckboxInput):
    html_params = staticmethod(html_params)


class Select(widgets.Select):
    @classmethod
    def render_option(cls, choice, **kwargs):
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        label = escape(choice.label or choice.value)
        if not choice.render_kw and not kwargs:  # the usual option: its two attributes
            selected = "selected " if choice.selected else ""
            html = f'<option {selected}value="{_value(value)}">{label}</option>'
            return Markup(html)  # noqa: S704 - the value and label escaped
        options = {"value": value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            options["selected"] = True
        return Markup(f"<option {html_params(**options)}>{label}</option>")  # noqa: S704


def labelled_checkboxes(field) -> Markup:
    """Each option of a multiple-choice field as a checkbox inside its label, one a line,
    as ``<label for="{{ o.id }}">{{ o() }} {{ o.label.text }}</label>`` for each option ``o``
    renders them (the ``field`` macro's fieldset), without the subfield WTForms builds for each
    option: most of an action form's render with one checkbox per cluster of a 500-cluster
    region. Options that take attributes of their own (the field's ``render_kw``, ``required``,
    ``disabled``) are rendered by their subfields."""
    if field.render_kw or any(name in dir(field.flags) for name in ("required", "disabled")):
        lines = [f'<label for="{escape(o.id)}">{o()} {escape(o.label.text)}</label>' for o in field]
        return Markup("\n".join(lines))  # noqa: S704 - WTForms' own markup, the rest escaped
    lines = []
    # The attributes in html_params' order (checked, id, name, type, value), written directly.
    name = _value(field.name)
    for index, choice in enumerate(field.iter_choices()):
        value, label, selected = choice[0], choice[1], choice[2]
        option_id = _value(f"{field.id}-{index}")
        checked = "checked " if selected else ""
        lines.append(
            f'<label for="{option_id}"><input {checked}id="{option_id}" name="{name}" '
            f'type="checkbox" value="{_value(str(value))}"> {escape(label or value)}</label>'
        )
    return Markup("\n".join(lines))  # noqa: S704 - each attribute and label escaped above
