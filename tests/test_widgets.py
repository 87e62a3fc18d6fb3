"""The fast form widgets (portal.web.widgets) render exactly what WTForms' own render."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField, SelectMultipleField, widgets

from portal.web import widgets as fast

KEYS = st.sampled_from(
    ["id", "name", "value", "class_", "for_", "data_row_id", "aria_describedby", "checked", "x"]
)
TEXT = st.text(alphabet=st.sampled_from("ab <>&\"'=ø\u00a0"), max_size=8)
VALUES = st.one_of(TEXT, TEXT.map(Markup), st.booleans(), st.integers(-5, 500), st.just(""))


@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_html_params_is_wtforms_own(attributes):
    assert fast.html_params(**attributes) == widgets.html_params(**attributes)


CHOICES = st.lists(st.tuples(TEXT, TEXT), min_size=0, max_size=6, unique_by=lambda c: c[0])


@given(CHOICES, st.data())
def test_a_select_renders_as_wtforms_renders_it(choices, data):
    chosen = data.draw(st.sampled_from([c[0] for c in choices])) if choices else None

    class Own(Form):
        field = SelectField(choices=choices, validate_choice=False)

    class Fast(Form):
        field = SelectField(choices=choices, validate_choice=False, widget=fast.Select())

    formdata = MultiDict({"field": chosen}) if chosen is not None else None
    own, quick = Own(formdata), Fast(formdata)
    assert quick.field(class_="x") == own.field(class_="x")


@given(CHOICES, st.data())
def test_checkboxes_render_as_wtforms_renders_them(choices, data):
    picked = data.draw(st.lists(st.sampled_from([c[0] for c in choices]))) if choices else []

    class Own(Form):
        field = SelectMultipleField(
            choices=choices, option_widget=widgets.CheckboxInput(), validate_choice=False
        )

    class Fast(Form):
        field = SelectMultipleField(
            choices=choices, option_widget=fast.CheckboxInput(), validate_choice=False
        )

    formdata = MultiDict([("field", value) for value in picked])
    own, quick = Own(formdata), Fast(formdata)
    assert [o() for o in quick.field] == [o() for o in own.field]


def test_a_multiple_select_with_kept_choices_renders_as_wtforms():
    choices = [("a", "Alpha & Co"), ("b", '"Beta"'), ("c", Markup("<em>C</em>"))]

    class Own(Form):
        field = SelectMultipleField(choices=choices, render_kw={"data_kind": "x"})

    class Fast(Form):
        field = SelectMultipleField(
            choices=choices, render_kw={"data_kind": "x"}, widget=fast.Select(multiple=True)
        )

    formdata = MultiDict([("field", "a"), ("field", "c")])
    assert Fast(formdata).field() == Own(formdata).field()


def _each_option_labelled(field) -> str:
    """What the ``field`` macro rendered for each option before labelled_checkboxes."""
    return "\n".join(f'<label for="{o.id}">{o()} {escape(o.label.text)}</label>' for o in field)


@given(CHOICES, st.data())
def test_labelled_checkboxes_render_as_their_subfields_do(choices, data):
    picked = data.draw(st.lists(st.sampled_from([c[0] for c in choices]))) if choices else []

    class Own(Form):
        field = SelectMultipleField(
            choices=choices, option_widget=widgets.CheckboxInput(), validate_choice=False
        )

    formdata = MultiDict([("field", value) for value in picked])
    field = Own(formdata).field
    assert fast.labelled_checkboxes(field) == _each_option_labelled(field)


def test_labelled_checkboxes_with_option_attributes_render_their_subfields():
    """Options that take attributes (the field's ``render_kw``, ``required``) keep them."""
    from wtforms.validators import InputRequired

    for extra in ({"render_kw": {"class": "pick"}}, {"validators": [InputRequired()]}):

        class Own(Form):
            field = SelectMultipleField(
                choices=[(1, "One"), (2, "Two & more")],
                coerce=int,
                option_widget=widgets.CheckboxInput(),
                **extra,
            )

        field = Own(MultiDict([("field", "2")])).field
        rendered = fast.labelled_checkboxes(field)
        assert rendered == _each_option_labelled(field)
        assert 'class="pick"' in rendered or "required" in rendered
