"""Refusals as data (issue 9, deliverable 2), milestone records that are never overwritten and
the one email rule (deliverable 11), against SQLite and PostgreSQL."""

from __future__ import annotations

import string
from datetime import date

import pytest
import sqlalchemy as sa

from notifications.wording import PHRASES, say
from tests.conftest import paris
from tests.test_engine import AGENCY, new_mini
from web.refusals import how_to_fix, sentence, worded
from workflow import tables
from workflow.addresses import check_email, is_email
from workflow.clock import FixedClock
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.errors import AlreadyRecorded, ConflictError, InvalidInput, TransitionRefused, Unmet
from workflow.read_models.detail import milestone_completions
from workflow.records import Records

# -- structured refusals ---------------------------------------------------------------------


def test_a_refusal_carries_each_unmet_condition_as_data_with_its_fix(engine: Engine) -> None:
    pid = new_mini(engine)
    with pytest.raises(TransitionRefused) as refused:
        engine.advance(pid, "start_deployment", actor="Anne")
    assert refused.value.unmet == [
        Unmet(
            "occurrence_not_held",
            "copil_1",
            {
                "label": "COPIL 1",
                "label_en": "COPIL 1",
                "series": "Comité de pilotage",
                "series_en": "Steering committee",
            },
            "record_meeting",
        ),
        Unmet(
            "deliverable_not_delivered",
            "fiche_cadrage",
            {
                "label": "Fiche de cadrage",
                "label_en": "Framing sheet",
                "deliverable": "fiche de cadrage",
                "deliverable_en": "framing sheet",
            },
            "record_milestone",
        ),
        Unmet("too_few_partners", "partner", {"active": 0, "needed": 2}, "add_partner"),
    ]
    # check() gives the same data, and the developer's sentence says what to do first.
    assert engine.check(pid, "start_deployment") == refused.value.unmet
    assert str(refused.value).endswith(
        "(to do first: record_meeting copil_1, record_milestone fiche_cadrage, add_partner partner)"
    )


def test_missing_comments_and_reports_are_data_too(
    engine: Engine, records: Records, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    with pytest.raises(TransitionRefused) as refused:
        engine.advance(pid, "suspend", actor="Anne")
    assert refused.value.unmet == [
        Unmet("comment_required", "suspend", {"step": "suspend"}, "give_comment")
    ]
    records.add_partner(pid, PartnerIn("Asso A", "a@asso-a.example.fr", roles=("partner", "copil")))
    records.add_partner(pid, PartnerIn("Asso B", "b@asso-b.example.fr"))
    records.meeting_held(pid, occurrence="copil_1")
    records.milestone_done(pid, "fiche_cadrage", by="Anne")
    engine.advance(pid, "start_deployment", actor="Anne")
    assert engine.check(pid, "start_assessment") == [
        Unmet(
            "decision_not_recorded",
            "go_bilan",
            {
                "decision": "Décision de passer au bilan",
                "decision_en": "Decision to move to the assessment",
            },
            "record_decision",
        )
    ]
    clock.set(paris(2026, 12, 1, 9))
    assert engine.run_timed_transitions() == [
        f"project {pid}: flagged overdue (decision 'go_bilan' not recorded)"
    ]
    records.record_decision(pid, "go_bilan", by="Anne")
    engine.advance(pid, "start_assessment", actor="Anne")
    unmet = engine.check(pid, "close_project")
    assert unmet == [
        Unmet(
            "reports_missing",
            "bilan_trimestriel",
            {
                "label": "Bilan trimestriel",
                "label_en": "Quarterly report",
                "organisations": ["Asso A", "Asso B"],
                "count": 2,
            },
            "submit_reports",
        )
    ]
    assert sentence(unmet[0], "fr") == "Bilan trimestriel non reçu de : Asso A, Asso B"
    assert how_to_fix(unmet[0], "en") == "get the “Quarterly report” from: Asso A, Asso B"


SAMPLE = {
    "label": "COPIL 1",
    "series": "Comité de pilotage",
    "deliverable": "fiche",
    "decision": "attribution",
    "active": 1,
    "needed": 2,
    "organisations": "Asso A, Asso B",
    "count": 2,
    "step": "Passer au déploiement",
}


def test_every_kind_and_fix_is_worded_once_in_french_and_in_english() -> None:
    keys = {f"refusal.{k}" for k in Unmet.KINDS} | {f"fix.{f}" for f in Unmet.FIXES}
    keys.add("refusal.how_to_fix")
    for lang in ("fr", "en"):
        section = {k for k in PHRASES[lang] if k.startswith(("refusal.", "fix."))}
        assert section == keys, lang
    for key in keys:
        fields = {f for _, f, _, _ in string.Formatter().parse(PHRASES["fr"][key]) if f}
        assert fields <= set(SAMPLE), key
        french, english = say(key, "fr", **SAMPLE), say(key, "en", **SAMPLE)
        assert french and english and french != english, key
        assert "{" not in french + english and "_" not in french + english, key


def test_worded_conditions_keep_the_data_and_add_the_words() -> None:
    unmet = Unmet("series_not_held", "copil", {"label": "Comité de pilotage"}, "record_meeting")
    assert worded([unmet], "en") == [
        {
            "kind": "series_not_held",
            "subject": "copil",
            "params": {"label": "Comité de pilotage"},
            "fix": "record_meeting",
            "text": "no “Comité de pilotage” meeting held in this phase",
            "fix_text": "hold the meeting “Comité de pilotage”, then record it as held",
        }
    ]
    assert worded([unmet], "fr")[0]["text"] == (
        "aucune réunion « Comité de pilotage » tenue dans cette phase"
    )


# -- milestone records are never overwritten -------------------------------------------------


def test_a_done_milestone_is_not_recorded_again_and_a_correction_keeps_both(
    engine: Engine, records: Records, db: sa.Engine, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    clock.set(paris(2027, 4, 1, 10))
    records.milestone_done(pid, "fiche_cadrage", by="Anne", deliverable_ref="GED-12")
    clock.set(paris(2027, 4, 20, 10))
    with pytest.raises(AlreadyRecorded) as refused:
        records.milestone_done(pid, "fiche_cadrage", by="Bob")
    assert isinstance(refused.value, ConflictError)
    assert (refused.value.done_by, refused.value.done_on) == ("Anne", date(2027, 4, 1))
    assert refused.value.recorded_at == paris(2027, 4, 1, 10)
    assert "already recorded done on 2027-04-01 by Anne" in str(refused.value)
    with pytest.raises(InvalidInput, match="comment"):
        records.milestone_done(pid, "fiche_cadrage", by="Bob", correct=True, comment="  ")
    with db.connect() as conn:
        row = conn.execute(sa.select(tables.milestone)).one()
        assert (row.done_on, row.done_by, row.deliverable_ref) == (
            date(2027, 4, 1),
            "Anne",
            "GED-12",
        )

    records.milestone_done(
        pid, "fiche_cadrage", by="Bob", correct=True, comment="livrée le 20, pas le 1er"
    )
    with db.connect() as conn:
        row = conn.execute(sa.select(tables.milestone)).one()
        assert (row.done_on, row.done_by, row.deliverable_ref) == (
            date(2027, 4, 20),
            "Bob",
            "GED-12",
        )
        history = milestone_completions(conn, pid)["fiche_cadrage"]
    assert [(h.done_on, h.done_by, h.deliverable_ref, h.comment) for h in history] == [
        (date(2027, 4, 1), "Anne", "GED-12", None),
        (date(2027, 4, 20), "Bob", "GED-12", "livrée le 20, pas le 1er"),
    ]
    assert [h.recorded_at for h in history] == [paris(2027, 4, 1, 10), paris(2027, 4, 20, 10)]


def test_unknown_milestones_and_corrections_of_open_ones_are_named(
    engine: Engine, records: Records
) -> None:
    pid = new_mini(engine)
    with pytest.raises(InvalidInput, match=r"no milestone 'diagnostic' opened so far") as unknown:
        records.milestone_done(pid, "diagnostic", by="Anne")
    assert "still to do: fiche_cadrage" in str(unknown.value)
    with pytest.raises(InvalidInput, match="not recorded done yet") as early:
        records.milestone_done(pid, "fiche_cadrage", by="Anne", correct=True, comment="oups")
    assert early.value.field == "correct"
    records.milestone_done(pid, "fiche_cadrage", by="Anne")
    with pytest.raises(InvalidInput, match="still to do: none"):
        records.milestone_done(pid, "diagnostic", by="Anne")


# -- one email rule --------------------------------------------------------------------------

GOOD = ["a@b.fr", "jean.dupont+copil@sous.domaine-x.fr", "o'neil@x.org", "A_1@X-2.example.FR"]
BAD = [
    "",
    "nobody",
    "x@y",
    "a b@x.org",
    "a@b@c.fr",
    "<a@x.fr>",
    "a,b@x.fr",
    "a;b@x.fr",
    "a..b@x.fr",
    ".a@x.fr",
    "a@-x.fr",
    "a@x..fr",
    "jeanne@x.org\r\nBcc: evil@x.org",
    "jeanne@x.org\nBcc: evil@x.org",
    "é@x.fr",
    "a" * 65 + "@x.fr",
    "a@" + "b" * 250 + ".fr",
]


@pytest.mark.parametrize("address", GOOD)
def test_the_rule_accepts_plain_addresses(address: str) -> None:
    assert is_email(address) and check_email("email", f"  {address} ") == address


@pytest.mark.parametrize("address", BAD)
def test_the_rule_refuses_what_is_not_an_address(address: str) -> None:
    assert not is_email(address)
    with pytest.raises(InvalidInput, match="not an email address") as refused:
        check_email("partner.email", address)
    assert refused.value.field == "partner.email"


def test_engine_records_and_accounts_use_the_rule(engine: Engine, records: Records) -> None:
    from web.auth import Accounts

    for bad in ("x@y", "a b@x.org", "a@b@c.fr", "jeanne@x.org\r\nBcc: evil@x.org"):
        with pytest.raises(InvalidInput) as created:
            engine.create_project(
                NewProject(
                    definition_id="mini",
                    title="T",
                    start_date=date(2026, 5, 4),
                    pilot=PartnerIn("P", bad),
                    agency=AGENCY,
                )
            )
        assert created.value.field == "pilot.email"
        pid = new_mini(engine)
        with pytest.raises(InvalidInput) as added:
            records.add_partner(pid, PartnerIn("Asso", bad))
        assert added.value.field == "partner.email"
        with pytest.raises(InvalidInput) as account:
            Accounts(engine.db, engine.clock.now).create_user(
                bad, "correct horse battery", role="pilot"
            )
        assert account.value.field == "email"
    who = Accounts(engine.db, engine.clock.now).create_user(
        " Anne.Martin@DD93.example.fr ", "correct horse battery", role="pilot"
    )
    assert who.email == "anne.martin@dd93.example.fr"


@pytest.mark.parametrize("address", GOOD + BAD)
def test_every_address_the_rule_accepts_can_be_written_and_no_header_breaker_can(
    address: str,
) -> None:
    """notifications/ may not import the rule: it guards only the header. Whatever the rule
    lets in is written; whatever would change a header's structure is refused there too."""
    from notifications.message import InvalidAddress, OutgoingMessage, Recipient, build_email

    def build() -> None:
        build_email(
            OutgoingMessage(
                message_id="<copilote.x@copilote.local>",
                sender=Recipient("Copilote", "copilote@ars.example.fr"),
                to=(Recipient("Jeanne", address),),
                subject="Rappel",
                text="Bonjour",
                html="<p>Bonjour</p>",
                date=paris(2026, 3, 1, 9),
            ),
        )

    if is_email(address):
        build()
    elif any(c in address for c in ' \r\n<>,;"()[]\\:') or address.count("@") != 1:
        with pytest.raises(InvalidAddress):
            build()
