"""Routes of registration that fits real meetings, on the workshops blueprint: the questions
a workshop asks (its coordinators set them), a registrant's answers, seats asked for and the
coordinators' decisions, the registrants and the attendance as CSV and XLSX, and the
attendance copied into the minutes. The workshop page shows them (:func:`detail_context`)."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.locking import conflict, form_status, saving
from portal.permissions import require
from portal.plans.spreadsheets import CSV_MIME, XLSX_MIME, download_name, to_csv, to_xlsx
from portal.tenancy import get_or_404
from portal.web.forms import show_service_error
from portal.web.pagination import page_args
from portal.workshops import questions, registrants, seat_requests, services
from portal.workshops.models import RegistrationStatus, Workshop
from portal.workshops.registration_forms import (
    AttendanceMinutesForm,
    DeclineForm,
    QuestionEditForm,
    QuestionForm,
    answers_form,
)
from portal.workshops.registration_models import RegistrationQuestion, SeatRequest
from portal.workshops.views import _detail_url, _render_detail, bp


def _workshop(workshop_id: int, action: str = "workshop.manage") -> Workshop:
    workshop = get_or_404(Workshop, workshop_id)
    require(current_user, action, workshop)
    return workshop


# --- what the workshop page shows -----------------------------------------------------------


def detail_context(workshop: Workshop, manage: bool, mine, forms: dict) -> dict:
    """The workshop page's part of registration: the questions in the register form, the
    registrant's answers, a seat to ask for; for coordinators the registrants with their
    answers (paged), the seats asked for and the attendance to copy into the minutes."""
    asked = questions.questions_of(workshop.id)
    active = mine is not None and mine.status != RegistrationStatus.CANCELLED
    context = {
        "questions": asked,
        "questions_open": questions.editable(workshop),
        "register_form": forms.get("register_form") or answers_form(asked),
        "answers_form": forms.get("answers_form"),
        "answers_conflict": forms.get("answers_conflict"),
        "may_ask_seat": False,
        "seat_request": None,
        "seat_open": seat_requests.is_open(workshop),
        "label_of": questions.label_of,
        "answer_of": questions.shown_answer,
        "SEAT_REQUEST_STATUS_LABELS": seat_requests.SEAT_REQUEST_STATUS_LABELS,
    }
    if active and asked and context["answers_form"] is None:
        row = questions.answers_row(mine.id)
        form = answers_form(asked, stored=row.answers if row else {}, versioned=True)
        form.version.data = row.version if row is not None else 0
        context["answers_form"] = form
    if mine is None and seat_requests.may_ask(current_user, workshop):
        context["may_ask_seat"] = True
        context["seat_request"] = seat_requests.request_of(current_user.id, workshop.id)
        context["seat_form"] = forms.get("seat_form") or answers_form(asked, seat_request=True)
    if manage:
        page, per_page = page_args(default_per_page=25)
        context.update(
            registrants=registrants.registrants_page(workshop, page, per_page),
            seat_requests=seat_requests.pending(workshop.id),
            decline_form=forms.get("decline_form") or DeclineForm(formdata=None),
            decline_request_id=forms.get("decline_request_id"),
            attendance_minutes_form=AttendanceMinutesForm(
                formdata=None, data={"version": workshop.version}
            ),
        )
    return context


# --- registering with answers (the register route of views.py calls this) -----------------


def registration_answers(workshop: Workshop):
    """The register form as posted, checked: (form, whether it may register)."""
    form = answers_form(questions.questions_of(workshop.id), formdata=request.form)
    return form, form.validate_on_submit()


def _stored(row) -> dict:
    return {f"q{key}": value for key, value in (row.answers or {}).items()}


@bp.route("/<int:workshop_id>/answers", methods=["POST"])
def answers(workshop_id: int):
    """The registrant changes their answers while registered (or waiting)."""
    workshop = _workshop(workshop_id, "workshop.view")
    registration = services.registration_of(current_user.id, workshop.id)
    if registration is None or registration.status == RegistrationStatus.CANCELLED:
        flash(_("You are not registered for this workshop."), "info")
        return redirect(_detail_url(workshop, "registration"))
    row = questions.answers_row(registration.id)
    asked = questions.questions_of(workshop.id)
    stored = row.answers if row is not None else {}
    form = answers_form(asked, stored=stored, versioned=True, formdata=request.form)
    if not form.validate_on_submit():
        return _render_detail(workshop, 422, answers_form=form)
    try:
        if row is None:  # nothing stored yet that an answer could overwrite
            questions.change_answers(current_user, workshop, registration, form.answers())
        else:
            with saving(row, form, extra=_stored):
                questions.change_answers(current_user, workshop, registration, form.answers())
    except ConflictError as exc:
        return _render_detail(workshop, 409, answers_form=form, answers_conflict=exc)
    except IntegrityError:  # answered in another tab at the same moment
        db.session.rollback()
        exc = conflict(questions.answers_row(registration.id), form, extra=_stored)
        return _render_detail(workshop, 409, answers_form=form, answers_conflict=exc)
    except ServiceError as exc:
        show_service_error(form, exc)
        return _render_detail(workshop, 422, answers_form=form)
    flash(_("Your answers are saved."), "success")
    return redirect(_detail_url(workshop, "registration"))


# --- the coordinators' questions ------------------------------------------------------------


def _questions_page(workshop: Workshop, form: QuestionForm, status: int = 200):
    return render_template(
        "workshops/questions.html",
        workshop=workshop,
        questions=questions.questions_of(workshop.id),
        form=form,
        kind_labels=questions.KIND_LABELS,
        label_of=questions.label_of,
        open=questions.editable(workshop),
    ), status


@bp.route("/<int:workshop_id>/questions", methods=["GET", "POST"])
def question_list(workshop_id: int):
    workshop = _workshop(workshop_id)
    if request.method == "GET":
        return _questions_page(workshop, QuestionForm(formdata=None))
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            questions.add_question(current_user, workshop, form.values())
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The question is added."), "success")
            return redirect(url_for("workshops.question_list", workshop_id=workshop.id))
    return _questions_page(workshop, form, 422)


def _question(workshop: Workshop, question_id: int) -> RegistrationQuestion:
    question = get_or_404(
        RegistrationQuestion, question_id, belongs_to={"workshop_id": workshop.id}
    )
    if question.removed_at is not None:
        abort(404)
    return question


@bp.route("/<int:workshop_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
def question_edit(workshop_id: int, question_id: int):
    workshop = _workshop(workshop_id)
    question = _question(workshop, question_id)
    form = QuestionEditForm(obj=question)
    problem = None
    if form.validate_on_submit():
        try:
            with saving(question, form):
                questions.update_question(current_user, workshop, question, form.values())
        except ConflictError as exc:
            problem = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(_("The question is saved. Answers given before stay as they were."), "success")
            return redirect(url_for("workshops.question_list", workshop_id=workshop.id))
    page = render_template(
        "workshops/question_form.html",
        workshop=workshop,
        question=question,
        form=form,
        conflict=problem,
        kind_label=questions.KIND_LABELS[question.kind],
        open=questions.editable(workshop),
    )
    return page, form_status(form, problem)


@bp.route("/<int:workshop_id>/questions/<int:question_id>/remove", methods=["POST"])
def question_remove(workshop_id: int, question_id: int):
    workshop = _workshop(workshop_id)
    question = _question(workshop, question_id)
    try:
        questions.remove_question(current_user, workshop, question)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(_("The question is removed; its answers are no longer shown."), "success")
    return redirect(url_for("workshops.question_list", workshop_id=workshop.id))


# --- seats asked for ------------------------------------------------------------------------


@bp.route("/<int:workshop_id>/seat-request", methods=["POST"])
def seat_request(workshop_id: int):
    workshop = _workshop(workshop_id, "workshop.view")
    if not seat_requests.may_ask(current_user, workshop):
        abort(403)
    form = answers_form(
        questions.questions_of(workshop.id), seat_request=True, formdata=request.form
    )
    if form.validate_on_submit():
        try:
            seat_requests.ask(current_user, workshop, form.note.data or "", form.answers())
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(
                _("Your request is sent. The coordinators decide, and you get an e-mail."),
                "success",
            )
            return redirect(_detail_url(workshop, "registration"))
    return _render_detail(workshop, 422, seat_form=form)


@bp.route("/<int:workshop_id>/seat-request/withdraw", methods=["POST"])
def seat_request_withdraw(workshop_id: int):
    workshop = _workshop(workshop_id, "workshop.view")
    if seat_requests.withdraw(current_user, workshop):
        flash(_("Your request for a seat is withdrawn."), "success")
    else:
        flash(_("You have no request waiting for a decision."), "info")
    return redirect(_detail_url(workshop, "registration"))


def _seat_request(workshop: Workshop, request_id: int) -> SeatRequest:
    return get_or_404(SeatRequest, request_id, belongs_to={"workshop_id": workshop.id})


@bp.route("/<int:workshop_id>/seat-requests/<int:request_id>/accept", methods=["POST"])
def seat_request_accept(workshop_id: int, request_id: int):
    workshop = _workshop(workshop_id)
    asked = _seat_request(workshop, request_id)
    try:
        registration = seat_requests.accept(current_user, workshop, asked)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        if registration.status == RegistrationStatus.REGISTERED:
            flash(_("The request is accepted: the person has a seat and is told."), "success")
        else:
            flash(
                _(
                    "The request is accepted: the seats are taken, so the person is on the waiting list and is told."
                ),
                "info",
            )
    return redirect(_detail_url(workshop, "seat-requests"))


@bp.route("/<int:workshop_id>/seat-requests/<int:request_id>/decline", methods=["POST"])
def seat_request_decline(workshop_id: int, request_id: int):
    workshop = _workshop(workshop_id)
    asked = _seat_request(workshop, request_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _render_detail(workshop, 422, decline_form=form, decline_request_id=asked.id)
    try:
        seat_requests.decline(current_user, workshop, asked, form.reason.data or "")
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The request is declined and the person is told."), "success")
    return redirect(_detail_url(workshop, "seat-requests"))


# --- downloads and the minutes ------------------------------------------------------------


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _table(workshop: Workshop, what: str):
    if what == "registrants":
        return registrants.registrants_table(workshop, g.tenant.timezone or "UTC")
    return registrants.attendance_table(workshop)


def _export(workshop_id: int, what: str, extension: str) -> Response:
    workshop = _workshop(workshop_id)
    header, rows = _table(workshop, what)
    name = download_name("workshop", workshop.id, workshop.title, what, extension=extension)
    if extension == ".csv":
        return _download(to_csv(header, rows), CSV_MIME, name)
    sheet = _("Registrants") if what == "registrants" else _("Attendance")
    return _download(to_xlsx([(sheet, header, rows)]), XLSX_MIME, name)


@bp.route("/<int:workshop_id>/registrants.csv")
def registrants_csv(workshop_id: int):
    return _export(workshop_id, "registrants", ".csv")


@bp.route("/<int:workshop_id>/registrants.xlsx")
def registrants_xlsx(workshop_id: int):
    return _export(workshop_id, "registrants", ".xlsx")


@bp.route("/<int:workshop_id>/attendance.csv")
def attendance_csv(workshop_id: int):
    return _export(workshop_id, "attendance", ".csv")


@bp.route("/<int:workshop_id>/attendance.xlsx")
def attendance_xlsx(workshop_id: int):
    return _export(workshop_id, "attendance", ".xlsx")


@bp.route("/<int:workshop_id>/attendance/minutes", methods=["POST"])
def attendance_into_minutes(workshop_id: int):
    """Append who attended, by cluster, to the minutes: checked against the version of the
    workshop (its minutes) the page showed."""
    workshop = _workshop(workshop_id)
    form = AttendanceMinutesForm()
    if not form.validate_on_submit():
        return _render_detail(workshop, 422)
    text = registrants.minutes_with_attendance(workshop)
    if text is None:
        flash(_("Nobody is marked as attended yet: mark the attendance first."), "error")
        return redirect(_detail_url(workshop, "attendance"))
    message = _(
        "The workshop or its minutes changed after you opened the page, so the attendance "
        "was not copied. Here are the minutes now; copy the attendance again if it is missing."
    )
    try:
        with saving(workshop, form, message=message, missing_message=message):
            services.set_minutes(current_user, workshop, text)
    except ConflictError as exc:
        return _render_detail(workshop, 409, minutes_conflict=exc)
    flash(_("The attendance is copied into the minutes."), "success")
    return redirect(_detail_url(workshop, "minutes-section"))
