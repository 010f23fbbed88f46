"""Demo data: projects taken from the seed documents, for an empty database.

``copilote demo`` fills an empty database so the agency dashboard has something to show: the
six coopératives d'acteurs of Île-de-France (seed 001), four ACIA establishments in Corsica
(seed 002), ACESO with its 2018 CPOM figures (seeds 000 and 003) and the Unapei
social-impact experiment in three regions (seed 004). Organisations come from the seeds where
they name them; people, ``.example`` emails and the figures the seeds do not give are made up.

The projects are *replayed*, not inserted: an engine whose clock the replay moves creates each
project and records its past on the day it happened, counted back from the clock's today, and
runs that day's due work (automatic steps, reminders, the daily overdue count) as the
service would have, at least once a week over the dashboard trend's half-year. Phase dates,
history, overdue flags and pending reminders are those of a real past, and the demo always
looks current. The messages this backfill queued are dropped: they are about the past.

Every project pilot has an email of their own (``pilote.<something>@...``; the first
coopérative's is ``pilote@cooperative-paris.example``), so a pilot account can be matched by
email to the partner row holding the ``pilot`` role.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import at_paris_time, is_working_day, next_working_day
from workflow.clock import FixedClock
from workflow.conventions import Conventions, PartyIn
from workflow.database import read
from workflow.driver import run_until
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.plan import ActionIn
from workflow.planner import quarter_end, quarter_of
from workflow.read_models.charts import TREND_WEEKS
from workflow.records import Records
from workflow.sweep import Sweeper

if TYPE_CHECKING:
    from service import Copilote

__all__ = ["ACESO_SEED_TODAY", "existing_projects", "load_demo"]


Person = tuple[str, PartnerIn]  # (short key within the project, who)


def existing_projects(c: Copilote) -> int:
    with read(c.engine.db) as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(tables.project)).scalar_one()
        )


def load_demo(c: Copilote) -> list[int]:
    """Create the demo projects and return their ids; on a database that has projects, do
    nothing and return ``[]`` (the demo never mixes with real data nor duplicates itself)."""
    if existing_projects(c):
        return []
    with read(c.engine.db) as conn:
        before = conn.execute(sa.select(sa.func.max(tables.outbox.c.id))).scalar() or 0
    r = _Replay(c)
    for coop in COOPERATIVES:
        _cooperative(r, *coop)
    _acia(r)
    _aceso(r)
    _unapei(r)
    r.run()
    with c.engine.db.begin() as conn:  # what the backfill queued is about the past
        conn.execute(sa.delete(tables.outbox).where(tables.outbox.c.id > before))
    return [p.pid for p in r.projects if p.pid]


def _working_day_before(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _person(org: str, contact: str, email: str, *roles: str) -> PartnerIn:
    return PartnerIn(org, email, contact, roles or ("partner", "copil"))


@dataclass
class _Project:
    title: str
    automatic: bool = False  # has automatic steps (ACIA's calendar windows)
    pid: int = 0
    pilot: str = ""
    people: dict[str, int] = field(default_factory=dict)  # partner ids by short key
    reporting: list[str] = field(default_factory=list)  # keys of the partners owing reports
    meetings: dict[str, int] = field(default_factory=dict)  # planned meetings' ids


class _Replay:
    """Dated actions, run in date order on an engine whose clock moves to each date.

    An action dated after today is dropped: that part of the story has not happened yet,
    which is how a project ends up late. Dates move back to the previous working day, except
    ``exact`` ones (the service also works on Sundays). The clock never passes the real now.
    """

    def __init__(self, c: Copilote) -> None:
        self.now, self.today = c.engine.clock.now(), c.engine.today()
        self.clock = FixedClock(self.now)
        self.engine = Engine(c.engine.db, c.engine.registry, self.clock, c.engine.planner)
        self.records = Records(self.engine)
        self.conventions = Conventions(self.engine)
        self.sweeper = Sweeper(self.engine)
        self.projects: list[_Project] = []
        self._actions: list[tuple[date, int, Callable[[], Any], _Project | None]] = []

    def ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def on(
        self, p: _Project | None, day: date, action: Callable[[], Any], *, exact: bool = False
    ) -> None:
        day = day if exact else _working_day_before(day)
        if day <= self.today:
            self._actions.append((day, len(self._actions), action, p))

    def run(self) -> None:
        """The days someone acts, in order: the service's tick of that day at 10:00 (or now),
        then that day's actions."""
        by_day: dict[date, list[tuple[Callable[[], Any], _Project | None]]] = defaultdict(list)
        for day, _, action, p in sorted(self._actions, key=lambda a: (a[0], a[1])):
            by_day[day].append((action, p))
        # One pass a week at least, so that the due work's daily overdue count (the
        # dashboard's trend) has a figure for every week of its half-year.
        for weeks in range(TREND_WEEKS + 1):
            by_day.setdefault(self.today - timedelta(weeks=weeks), [])

        def act(day: date) -> None:
            for action, p in by_day[day]:
                action()
                if p is not None and p.automatic:  # a flagged automatic step happens once it can
                    self.engine.run_timed_transitions()

        run_until(
            self.clock,
            self.today,
            engine=self.engine,
            sweeper=self.sweeper,
            days=by_day,
            ticks=(time(10),),
            act=act,
            act_at=time(10),
            not_after=self.now,
        )

    # -- what people do, each on its day -------------------------------------------------------
    def create(
        self, p: _Project, day: date, definition: str, pilot: PartnerIn,
        people: Iterable[Person], **options: Any,
    ) -> None:  # fmt: skip
        day, people = _working_day_before(day), list(people)
        p.pilot = pilot.contact_name
        p.reporting = [key for key, who in people if "partner" in who.roles]
        self.projects.append(p)

        def act() -> None:
            new = NewProject(
                definition_id=definition, title=p.title, start_date=day, pilot=pilot,
                actor=pilot.contact_name, **options,
            )  # fmt: skip
            p.pid = self.engine.create_project(new)
            for key, who in people:
                p.people[key] = self.records.add_partner(p.pid, who, day)

        self.on(p, day, act)

    def join(self, p: _Project, day: date, people: Iterable[Person]) -> None:
        people = list(people)
        p.reporting += [key for key, who in people if "partner" in who.roles]

        def act() -> None:
            for key, who in people:
                p.people[key] = self.records.add_partner(p.pid, who)

        self.on(p, day, act)

    def held(
        self, p: _Project, day: date, series: str | None = None, *,
        occurrence: str | None = None, note: str | None = None,
    ) -> None:  # fmt: skip
        held = self.records.meeting_held
        self.on(p, day, lambda: held(p.pid, series=series, occurrence=occurrence, minutes_ref=note))

    def plan(
        self, p: _Project, day: date, series: str, starts_on: date, occurrence: str | None = None
    ) -> None:
        def act() -> None:
            starts_at = at_paris_time(next_working_day(starts_on), "14:00")
            p.meetings[occurrence or series] = self.records.schedule_meeting(
                p.pid, series, starts_at, occurrence=occurrence
            )

        self.on(p, day, act)

    def cancel(self, p: _Project, day: date, key: str) -> None:
        self.on(p, day, lambda: self.records.cancel_meeting(p.pid, p.meetings[key]))

    def done(self, p: _Project, day: date, key: str, ref: str | None = None) -> None:
        done = self.records.milestone_done
        self.on(p, day, lambda: done(p.pid, key, by=p.pilot, deliverable_ref=ref))

    def advance(self, p: _Project, day: date, trigger: str) -> None:
        self.on(p, day, lambda: self.engine.advance(p.pid, trigger, actor=p.pilot))

    def decide(self, p: _Project, day: date, key: str, label: str, text: str) -> None:
        decide = self.records.record_decision
        self.on(p, day, lambda: decide(p.pid, key, by="COPIL", label=label, text=text))

    def convention(self, p: _Project, day: date, total_cents: int) -> None:
        """The partnership convention, recorded and signed by every reporting partner on
        ``day`` (it takes effect then), the funding apportioned to each: the first partner
        carries half of it, the others share the rest (seed 001: each its own contribution)."""

        def act() -> None:
            keys = p.reporting
            rest = total_cents // 2 // max(1, len(keys) - 1)
            amounts = [total_cents - rest * (len(keys) - 1), *([rest] * (len(keys) - 1))]
            parties = [PartyIn(p.people[k], a) for k, a in zip(keys, amounts, strict=True)]
            cid = self.conventions.create(p.pid, parties, by=p.pilot)
            for party in parties:
                self.conventions.sign(cid, party.partner_id, on=self.engine.today(), by=p.pilot)

        self.on(p, day, act)

    def leave(self, p: _Project, day: date, key: str) -> None:
        """The partner gives notice; it leaves at the convention's annual deadline."""
        self.on(p, day, lambda: self.records.partner_leaves(p.pid, p.people[key]))

    def indicator(
        self, p: _Project, day: date, key: str, label: str, kind: str, planned: float | None,
        realised: float | None, unit: str, gap: str | None = None, measure: str | None = None,
    ) -> None:  # fmt: skip
        def act() -> None:
            self.records.set_indicator(
                p.pid, key, label=label, kind=kind, planned=planned, realised=realised,
                gap_explanation=gap, corrective_measure=measure, by=p.pilot,
            )  # fmt: skip
            # The unit in a second call: Records.set_indicator cannot create an indicator
            # with a unit (it passes ``unit`` twice to the insert).
            self.records.set_indicator(p.pid, key, unit=unit, by=p.pilot)

        self.on(p, day, act)

    def budget(self, p: _Project, day: date, line: tuple[str, int, int, int]) -> None:
        label, planned, spent, forecast = line
        add = self.records.add_budget_line
        self.on(p, day, lambda: add(p.pid, label, planned_cents=planned, spent_cents=spent,
                                    forecast_cents=forecast, by=p.pilot))  # fmt: skip

    def quarterly_reports(
        self, p: _Project, since: date, actions: str, missing: Iterable[tuple[str, str]] = ()
    ) -> None:
        """Every reporting partner sends its bilan trimestriel two weeks after each quarter
        ending after ``since``, except the (partner key, period) pairs in ``missing``."""

        def report(key: str, period: str) -> Callable[[], Any]:
            content = {"actions": actions}
            return lambda: self.records.submit_report(
                p.pid, p.people[key], "bilan_trimestriel", period, content
            )

        skip, (year, quarter) = set(missing), quarter_of(since)
        while (day := quarter_end(year, quarter) + timedelta(days=15)) <= self.today:
            period = f"{year}-Q{quarter}"
            for key in p.reporting:
                if (key, period) not in skip:
                    self.on(p, day, report(key, period))
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _objectives_tree(records: Records, pid: int, by: str) -> None:
    """Seed 001, § 5.2: the objectives tree and a fiche-action, as the coopérative enters them."""
    plan = records.plan
    plan.set_objective(
        pid,
        "acces_sante",
        level="general",
        label="Améliorer l'accès à la santé des habitants",
        by=by,
    )
    plan.set_objective(
        pid,
        "prevention",
        level="specific",
        parent="acces_sante",
        label="Développer les actions de prévention de proximité",
        by=by,
    )
    plan.set_action(
        pid,
        "ateliers_prevention",
        ActionIn(
            objective="prevention",
            label="Ateliers de prévention dans les centres sociaux",
            target_public="Habitants des quartiers prioritaires",
            etp=0.2,
            series="copil",
        ),
        by=by,
    )


def _last_reported_quarter(today: date) -> str:
    """The last quarter whose reports (sent two weeks after its end) are in by today."""
    year, quarter = quarter_of(today - timedelta(days=15))
    if quarter_end(year, quarter) + timedelta(days=15) > today:
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return f"{year}-Q{quarter}"


# -- coopératives d'acteurs (seed 001) -----------------------------------------------------------
# Every coopérative goes through the same stages, at the same pace (days from its start); its
# story says how long ago it started and what went wrong.
STORIES = {
    "implementation": 245,  # in mise en œuvre, on time
    "late_copil": 330,  # in mise en œuvre, no COPIL for three months, a report missing
    "late_convention": 230,  # action plan overdue: indicators and convention still awaited
    "starting": 38,  # in préfiguration, on time
    "late_diagnosis": 140,  # diagnostic local de santé overdue
    "evaluation": 420,  # evaluation of the coopérative, on time
}
DIAGNOSIS, PLAN, SIGNED, WORK = 55, 113, 198, 201  # days from the start

AGENCY_IDF = _person("ARS Île-de-France – DPSRI", "Chargée de mission coopératives d'acteurs",
                     "dpsri.cooperatives@ars-idf.example", "agency")  # fmt: skip


def _cooperative(
    r: _Replay, title: str, territory: str, dd: str, pilot: tuple[str, str], funding_eur: int,
    people: list[Person], story: str,
) -> None:  # fmt: skip
    p, start = _Project(title), r.ago(STORIES[story])

    def at(days: int) -> date:
        return start + timedelta(days=days)

    implemented = story in ("implementation", "late_copil", "evaluation")
    r.create(
        p, start, "cooperative", _person(f"ARS Île-de-France – {dd}", *pilot, "pilot", "copil"),
        people, territory=territory, agency=AGENCY_IDF, funding_cents=funding_eur * 100,
    )  # fmt: skip
    # Préfiguration (§ 5.1 B): a meeting every two weeks, governance and orientations.
    r.held(p, at(7), occurrence="reunion_lancement", note="CR réunion de lancement")
    for day in (21, 35, 49):
        r.held(p, at(day), "reunion_projet")
    if story == "starting":
        r.plan(p, at(35), "reunion_projet", at(49))
        return
    r.done(p, at(40), "gouvernance", "Note de gouvernance (COPIL, COTECH)")
    r.done(p, at(50), "orientations_validees", "Relevé de décisions")
    r.advance(p, at(DIAGNOSIS), "start_diagnostic")
    # Diagnostic local de santé, shared in COPIL.
    r.held(p, at(DIAGNOSIS + 20), "copil", note="CR COPIL – lancement du DLS")
    if story == "late_diagnosis":  # a COPIL is planned to share it, but the DLS is late
        r.plan(p, at(DIAGNOSIS + 50), "copil", at(DIAGNOSIS + 95))
        return
    r.done(p, at(DIAGNOSIS + 50), "diagnostic_local_sante", "DLS v1")
    r.held(p, at(DIAGNOSIS + 55), "copil", note="CR COPIL – restitution du DLS")
    r.advance(p, at(PLAN), "start_action_plan")
    # Plan d'actions (§ 5.2): objectives, fiches-actions, indicators, convention.
    for day in range(PLAN + 10, WORK if implemented else PLAN + 400, 14):
        r.held(p, at(day), "reunion_projet")
    r.held(p, at(PLAN + 30), "copil")
    r.done(p, at(PLAN + 40), "arbre_objectifs", "Arbre des objectifs")
    r.on(p, at(PLAN + 40), lambda: _objectives_tree(r.records, p.pid, p.pilot))
    r.done(p, at(PLAN + 55), "fiches_actions", "Fiches-actions des partenaires")
    r.held(p, at(PLAN + 75), "copil", note="CR COPIL – validation des fiches-actions")
    if not implemented:  # seed 001: co-construction may drag on, without indicators
        return
    r.done(p, at(PLAN + 80), "indicateurs", "Tableau des indicateurs")
    r.convention(p, at(SIGNED), funding_eur * 100)
    r.done(p, at(SIGNED), "convention_signee", "Convention de partenariat signée")
    r.advance(p, at(WORK), "validate_action_plan")
    # Mise en œuvre: quarterly reports, a COPIL every two months.
    late = story == "late_copil"
    r.done(p, at(WORK + (40 if late else 18)), "tableau_de_bord", "Tableau de bord")
    missing = [(p.reporting[-1], _last_reported_quarter(r.today))] if late else []
    r.quarterly_reports(p, at(WORK), "Actions conduites comme prévu dans les fiches-actions.",
                        missing)  # fmt: skip
    for day in {"implementation": (30,), "late_copil": (35,), "evaluation": (45, 100, 160)}[story]:
        r.held(p, at(WORK + day), "copil", note="CR COPIL – suivi des actions")
    for key, label, kind, planned, realised, unit, *gap in COOP_INDICATORS[story]:
        r.indicator(p, r.ago(10), key, label, kind, planned, realised, unit, *gap)
    if story == "implementation":
        r.plan(p, at(WORK + 30), "copil", at(WORK + 93))
    elif late:
        r.leave(p, r.ago(20), p.reporting[0])
    else:
        r.decide(p, at(WORK + 185), "evaluation_finale_decidee",
                 "Lancement de l'évaluation de la coopérative",
                 "Le COPIL décide de lancer l'évaluation de la phase expérimentale.")  # fmt: skip
        r.advance(p, at(WORK + 190), "start_evaluation")
        r.plan(p, at(WORK + 190), "copil", at(WORK + 250))


def _people(domain: str, *people: tuple[str, str, str, str]) -> list[Person]:
    """(key, organisation, contact, mailbox): partners, except inhabitants' representatives."""
    roles = {"habitants": ("habitants", "copil")}
    return [
        (key, _person(org, who, f"{box}@{domain}.example", *roles.get(key, ("partner", "copil"))))
        for key, org, who, box in people
    ]


# fmt: off
COOP_INDICATORS: dict[str, list[tuple[Any, ...]]] = {  # made up: seed 001 gives the kinds only
    "implementation": [
        ("orientations", "Personnes repérées et orientées vers un accompagnement", "activity", 150, 38, "personnes"),
    ],
    "late_copil": [
        ("orientations_pass", "Personnes en errance orientées vers la PASS", "activity", 80, 51, "personnes"),
        ("maraudes", "Maraudes communes", "process", 24, 11, "maraudes",
         "Maraudes suspendues trois semaines en été (effectifs réduits)", "Maraudes communes doublées en octobre"),
    ],
    "evaluation": [
        ("enfants_reperes", "Enfants de 2 à 7 ans repérés", "activity", 400, 312, "enfants"),
        ("professionnels_formes", "Professionnels formés au repérage", "process", 60, 64, "professionnels"),
    ],
}

# seed 001, préambule: the six coopératives of the experimental phase, in its order.
COOPERATIVES: list[tuple[str, str, str, tuple[str, str], int, list[Person], str]] = [
    ("Alliance d'acteurs en direction des publics invisibles", "Saint-Quentin-en-Yvelines (78)",
     "Délégation départementale des Yvelines", ("Sophie Lambert", "pilote@cooperative-paris.example"),
     22_000, _people(
         "sqy",
         ("ccas", "CCAS de Trappes", "Nadia Benali", "ccas.trappes"),
         ("mission_locale", "Mission locale de Saint-Quentin-en-Yvelines", "Julien Marchal", "missionlocale"),
         ("centre_sante", "Centre municipal de santé de La Verrière", "Dr Claire Roux", "cms.laverriere"),
         ("habitants", "Conseil citoyen de Trappes", "Fatou Diallo", "conseil.citoyen"),
     ), "implementation"),
    ("Prise en charge des personnes en errance", "La Défense (92)",
     "Délégation départementale des Hauts-de-Seine",
     ("Marc Olivier", "pilote.errance-la-defense@cooperative-paris.example"), 35_000, _people(
         "la-defense",
         ("maraude", "Association Maraude du Parvis", "Karim Haddad", "maraude"),
         ("pass", "PASS de l'hôpital de Nanterre", "Dr Anne Ferreira", "pass.nanterre"),
         ("ccas", "CCAS de Courbevoie", "Isabelle Masson", "ccas.courbevoie"),
         ("accueil", "Accueil de jour Le Relais", "Thomas Garnier", "relais"),
     ), "late_copil"),
    ("Accompagnement du développement de l'offre en promotion de la santé pour les personnes diabétiques",
     "Clichy-sous-Bois et Montfermeil (93)", "Délégation départementale de la Seine-Saint-Denis",
     ("Leïla Mansouri", "pilote.diabete-clichy-montfermeil@cooperative-paris.example"), 28_000, _people(
         "clichy-montfermeil",
         ("msp", "Maison de santé pluriprofessionnelle du Plateau", "Dr Paul Nguyen", "msp.plateau"),
         ("ville", "Ville de Montfermeil – service santé", "Céline Robert", "sante.ville"),
         ("diabete", "Association Diabète Ensemble 93", "Ahmed Cherif", "diabete93"),
         ("habitants", "Habitants du quartier du Chêne-Pointu", "Samuel Kouassi", "habitants"),
     ), "late_convention"),
    ("Constitution d'un réseau d'acteurs autour d'un service « santé respiratoire et habitat »",
     "Seine-Saint-Denis (93)", "Délégation départementale de la Seine-Saint-Denis",
     ("Hélène Dubois", "pilote.sante-respiratoire@cooperative-paris.example"), 15_000, _people(
         "respiratoire-habitat",
         ("cmei", "Conseillers médicaux en environnement intérieur 93", "Laure Petit", "cmei"),
         ("schs", "Service communal d'hygiène et de santé de Saint-Denis", "Yann Le Gall", "schs"),
         ("bailleur", "Bailleur social Plaine Habitat", "Sandrine Morel", "plaine-habitat"),
     ), "starting"),
    ("Sport nutrition au Bois l'Abbé", "Champigny-sur-Marne, Chennevières-sur-Marne (94)",
     "Délégation départementale du Val-de-Marne",
     ("Nicolas Perrin", "pilote.bois-labbe@cooperative-paris.example"), 20_000, _people(
         "bois-labbe",
         ("sports", "Ville de Champigny-sur-Marne – service des sports", "Eric Lemoine", "sports"),
         ("ccas", "CCAS de Chennevières-sur-Marne", "Aurélie Fontaine", "ccas.chennevieres"),
         ("pmi", "Centre de PMI du Bois l'Abbé", "Dr Sarah Cohen", "pmi"),
         ("club", "Club omnisports du Bois l'Abbé", "Moussa Traoré", "club"),
     ), "late_diagnosis"),
    ("Repérage des troubles du langage et/ou de l'apprentissage et développement des compétences "
     "psychosociales chez les enfants de 2 à 7 ans",
     "Villiers-le-Bel, Goussainville, Gonesse, Garges-lès-Gonesse, Sarcelles (95)",
     "Délégation départementale du Val-d'Oise",
     ("Catherine Vidal", "pilote.langage-val-de-france@cooperative-paris.example"), 48_000, _people(
         "langage-95",
         ("pmi", "PMI du Val-d'Oise – territoire Est", "Dr Marie Lefèvre", "pmi.est"),
         ("sante_scolaire", "Santé scolaire – circonscription de Sarcelles", "Jeanne Bertrand", "sante.scolaire"),
         ("cmpp", "CMPP de Garges-lès-Gonesse", "Dr Olivier Blanc", "cmpp.garges"),
         ("asv", "Atelier santé ville de Villiers-le-Bel", "Malika Amrani", "asv.villiers"),
     ), "evaluation"),
]

# seed 002: one project per establishment, on axis 1 or 2; the fourth is late.
ACIA_COHORT = [  # title, territory, axis, domain, pilot, late
    ("EHPAD Les Tilleuls (Ajaccio) – dossier usager informatisé", "Corse-du-Sud (2A)", "axe_1",
     "ehpad-tilleuls", "Marie Santoni", False),
    ("FAM U Castellu (Corte) – espaces de discussion sur le numérique", "Haute-Corse (2B)", "axe_2",
     "fam-ucastellu", "Jean-Baptiste Orsini", False),
    ("IME Les Oliviers (Bastia) – tablettes de suivi éducatif", "Haute-Corse (2B)", "axe_1",
     "ime-oliviers", "Lucia Casanova", True),
    ("SSIAD du Valinco (Propriano) – planning partagé", "Corse-du-Sud (2A)", "axe_2",
     "ssiad-valinco", "Antoine Pietri", False),
]
# fmt: on


# -- ACIA (seed 002): fixed calendar windows, May to February -------------------------------------
def _acia(r: _Replay) -> None:
    """This year's cohort (last year's until June): cadrage May-June, déploiement July-November,
    bilan December-February. The late establishment is moved by the service's automatic steps
    once its conditions hold (its pilot never steps it); its recommendations never all land."""
    y = r.today.year if r.today.month >= 6 else r.today.year - 1

    def d(month: int, day: int, year: int = y) -> date:
        return date(year, month, day)

    aract = ("aract", _person("ARACT Corse", "Chargée de mission numérique et travail",
                              "numerique@aract-corse.example", "aract", "copil"))  # fmt: skip
    agency = _person("ARS Corse", "Direction de la stratégie", "strategie@ars-corse.example",
                     "agency")  # fmt: skip
    for n, (title, territory, axis, domain, pilot, late) in enumerate(ACIA_COHORT):
        p, org = _Project(title, automatic=True), title.split(" (")[0]
        team = [
            ("direction", _person(org, "Direction", f"direction@{domain}.example")),
            ("cse", _person(org, "Représentant·e du personnel", f"cse@{domain}.example", "copil")),
            aract,
        ]
        email = f"pilote.{domain.split('-')[0]}@{domain}.example"
        r.create(p, next_working_day(d(5, 4)), "acia", _person(org, pilot, email, "pilot", "copil"),
                 team, territory=territory, variant=axis, agency=agency)  # fmt: skip
        first, second, third = (
            ("diagnostic", "arbitrage", "recommandations") if axis == "axe_1"
            else ("recensement_besoins", "cahier_des_charges", "test_espaces_discussion")
        )  # fmt: skip
        # Cadrage: COPIL 1, inter-structure meeting 1, fiche de cadrage.
        r.held(p, d(5, 19 + n), occurrence="copil_1", note="CR COPIL 1 (ARACT)")
        r.held(p, d(6, 9), occurrence="inter_structure_1")
        if axis == "axe_2":
            r.done(p, d(6, 16), "recensement_temps_echange", "Grille des temps d'échange")
        if late:  # framing done in September, deployment squeezed into the autumn
            r.done(p, d(9, 8), "fiche_cadrage", "Fiche de cadrage")
            r.held(p, d(9, 22), occurrence="copil_2")
            r.held(p, d(9, 22), occurrence="inter_structure_2")
            r.held(p, d(10, 27), occurrence="inter_structure_3")
            r.done(p, d(11, 3), first)
            r.held(p, d(11, 10), occurrence="copil_3")
            r.done(p, d(12, 8), second)
            r.held(p, d(12, 8), occurrence="copil_4")
            r.held(p, d(2, 9, y + 1), occurrence="inter_structure_4")
            continue
        r.done(p, d(6, 16), "fiche_cadrage", "Fiche de cadrage")
        r.advance(p, d(6, 23), "start_deployment")
        # Déploiement: COPIL 2 to 4, inter-structure meetings 2 and 3, the axis' deliverables.
        r.held(p, d(9, 8), occurrence="copil_2")
        r.held(p, d(9, 22), occurrence="inter_structure_2")
        r.done(p, d(9, 25), first)
        r.held(p, d(10, 6), occurrence="copil_3")
        r.done(p, d(10, 20), second)
        r.held(p, d(10, 27), occurrence="inter_structure_3")
        r.done(p, d(11, 17), third)
        r.held(p, d(11, 20), occurrence="copil_4")
        r.advance(p, d(11, 24), "start_assessment")
        # Bilan: inter-structure meeting 4, assessment, closure.
        r.held(p, d(2, 9, y + 1), occurrence="inter_structure_4")
        if axis == "axe_2":
            r.done(p, d(2, 16, y + 1), "evaluation_procedures")
        r.done(p, d(2, 16, y + 1), "bilan_actions", "Bilan des actions (apports / limites)")
        r.advance(p, d(2, 23, y + 1), "close_project")
    for window_end in (d(6, 30), d(11, 30), d(3, 1, y + 1) - timedelta(days=1)):
        r.on(None, window_end, lambda: None, exact=True)  # the service's tick on that day


# -- ACESO (seeds 003 and 000) ----------------------------------------------------------------------
ACESO_SEED_TODAY = date(2018, 9, 20)
"""The day of seed 000's CPOM report (figures at 31 August, next COPIL on 10 October): the
demo's today. ACESO's whole calendar is moved by the same number of days."""


def _aceso(r: _Replay) -> None:
    def m(day: date) -> date:
        return r.today + (day - ACESO_SEED_TODAY)

    p = _Project("ACESO – ACcompagnement Évolutif et SOlidaire (CPOM Île-de-France)")
    # fmt: off
    people: list[Person] = [
        (key, _person(org, who, email)) for key, org, who, email in [
            ("pole_etp", "Pôle de ressources Île-de-France en ETP", "Co-coordination ACESO",
             "coordination@pole-etp-idf.example"),
            ("cordia", "Association Cordia", "Référente accompagnement", "contact@cordia.example"),
            ("msp", "Maison de santé pluriprofessionnelle des Lilas", "Dr Hugo Marin", "msp@msp-leslilas.example"),
            ("mediation", "Association de médiation en santé Trait d'union", "Aïcha Benhamou",
             "mediation@traitdunion.example"),
            ("reseau", "Réseau de santé Paris-Est", "Pierre Caron", "animation@reseau-paris-est.example"),
            ("migrants", "Centre de santé Migrations et santé", "Dr Fanny Morin", "accueil@migrations-sante.example"),
            ("livinglab", "Living lab Autonomie et santé", "Romain Leroy", "lab@livinglab-sante.example"),
            ("etp", "Programme ETP diabète du Val-de-Marne", "Nathalie Girard", "etp@diabete94.example"),
            ("patients", "Collectif de patients Maladies chroniques", "Louis Gautier", "collectif@patients-mc.example"),
            ("aidants", "Association des aidants familiaux", "Martine Roussel", "contact@aidants.example"),
        ]
    ]
    people.append(("leps", _person("LEPS – Laboratoire Éducations et pratiques de santé",
                                   "Équipe d'évaluation", "evaluation@leps.example", "evaluateurs")))
    r.create(p, m(date(2017, 1, 9)), "aceso",
             _person("[im]patients, chroniques & associés", "Coordination ACESO",
                     "pilote.aceso@impatients-chroniques.example", "pilot", "copil"),
             people, territory="Île-de-France", funding_cents=15_384_675,
             agency=_person("ARS Île-de-France – CPOM", "Référent CPOM", "cpom@ars-idf.example", "agency"),
             convention_start=m(date(2017, 1, 9)), convention_end=m(date(2021, 12, 31)))
    # fmt: on
    # Year 1 (2017 in the seeds): charter, COPIL three times a year, two seminars.
    for day, series in ((date(2017, 3, 15), "copil"), (date(2017, 6, 7), "seminaire"),
                        (date(2017, 6, 21), "copil")):  # fmt: skip
        r.held(p, m(day), series)
    r.done(p, m(date(2017, 6, 30)), "charte_partenariat", "Charte de partenariat")
    r.held(p, m(date(2017, 10, 11)), "copil")
    r.held(p, m(date(2017, 11, 15)), "seminaire")
    # Year 2 (seed 000): COPIL on 14 February and 26 April; « Glossaire » on 1 March and 16 May
    # closes the common framework, four months late.
    r.held(p, m(date(2018, 2, 14)), "copil", note="CR COPIL – 13 participants")
    r.held(p, m(date(2018, 3, 1)), occurrence="glossaire_1", note="7 participants")
    r.held(p, m(date(2018, 4, 26)), "copil", note="CR COPIL – 7 participants")
    r.held(p, m(date(2018, 4, 27)), "equipe_evaluation", note="Équipe élargie du LEPS")
    r.held(p, m(date(2018, 5, 16)), occurrence="glossaire_2", note="7 participants")
    r.done(p, m(date(2018, 5, 16)), "cadre_description",
           "Carte mentale « l'accompagnement c'est / ce n'est pas »")  # fmt: skip
    r.advance(p, m(date(2018, 5, 22)), "start_practice_analysis")
    # « Guide du routard »: planned for the first half-year, cancelled (agenda problems).
    r.plan(p, m(date(2018, 5, 24)), "groupes_thematiques", m(date(2018, 6, 19)), "guide_routard")
    r.held(p, m(date(2018, 5, 31)), "equipe_evaluation", note="Équipe élargie du LEPS")
    r.held(p, m(date(2018, 6, 6)), "seminaire", note="22 participants")
    r.cancel(p, m(date(2018, 6, 12)), "guide_routard")
    r.held(p, m(date(2018, 6, 28)), "equipe_evaluation")
    r.done(p, m(date(2018, 7, 6)), "visites_etonnement", "7 visites : notes d'étonnement, kits")
    r.held(p, m(date(2018, 7, 19)), "equipe_evaluation")
    r.held(p, m(date(2018, 9, 5)), "bourse_situations", note="11 participants")
    r.held(p, m(date(2018, 9, 13)), "equipe_evaluation")
    # The dates the report announces: COPIL on 10 October, seminar on 7 November.
    r.plan(p, m(date(2018, 9, 12)), "copil", m(date(2018, 10, 10)))
    r.plan(p, m(date(2018, 9, 12)), "seminaire", m(date(2018, 11, 7)))
    r.plan(p, m(date(2018, 9, 12)), "bourse_situations", m(date(2018, 10, 3)))
    report_day = m(date(2018, 9, 14))
    for key, label, planned, realised, unit, *gap in ACESO_INDICATORS:
        kind = "process" if key == "coordination" else "activity"
        r.indicator(p, report_day, key, label, kind, planned, realised, unit, *gap)
    for line in ACESO_BUDGET:
        r.budget(p, report_day, line)


# fmt: off
ACESO_INDICATORS: list[tuple[Any, ...]] = [  # seed 000: planned, realised, gap, corrective measure
    ("coordination", "Travail de coordination / animation du projet", 10, 17.5, "h/semaine",
     "17,5 h par semaine depuis janvier (525 heures)"),
    ("copil", "Comité de pilotage", 3, 2, "réunions", "Pas d'écart : prochaine réunion programmée"),
    ("guide_routard", "Groupe de travail « Guide du routard »", 1, 0, "réunion",
     "La réunion prévue au 1er semestre a été annulée par des problèmes d'agenda des participants",
     "Une autre date sera fixée pour le 2e semestre"),
    ("visites", "Visites d'étonnement", 7, 7, "visites"),
    ("glossaire", "Groupe de travail « Glossaire »", 2, 2, "réunions"),
    ("seminaires", "Séminaire de co-construction", 2, 1, "séminaires",
     "Pas d'écart : le second séminaire est programmé"),
    ("bourse", "Groupe « Bourse de situations » (1 réunion par mois)", 1, 1, "réunion"),
    ("barometre", "Formation des partenaires à l'outil Baromètre", 1, 1, "journée"),
    ("evaluation", "Réunions de l'équipe d'évaluation", 4, 10, "réunions"),
    ("cadre_evaluatif", "Construction du cadre évaluatif", 1, 0, "cadre",
     "L'échéance a été prévue sans considérer le mode collaboratif de construction",
     "Critères et indicateurs construits par le groupe de travail « Évaluation »"),
    ("stages", "Accueil de stagiaires de master recherche", 2, 2, "stages"),
]

ACESO_BUDGET = [  # seed 000, in cents: budget prévisionnel, dépenses à date, dépenses à venir
    ("Mise en évidence et analyse critique des formes d'accompagnement", 3_141_935, 1_229_015, 1_503_626),
    ("Co-construction des modalités d'accompagnement", 2_431_535, 1_141_253, 903_626),
    ("Élaboration de nouveaux outils et supports", 2_303_535, 1_526_253, 613_376),
    ("Élaboration d'un cadre commun d'évaluation des résultats et impacts", 3_001_335, 1_207_074, 1_613_376),
    ("Partage et diffusion des savoirs et savoir-faire", 4_506_335, 1_355_713, 2_938_567),
]
# fmt: on


# -- Unapei (seed 004): the national project, experiments in three Unapei Régions -------------------
def _unapei(r: _Replay) -> None:
    p, start = _Project("Mesure d'impact social dans le réseau Unapei – 3 régions"), r.ago(400)

    def at(days: int) -> date:
        return start + timedelta(days=days)

    expert = _person("Cabinet Impact & Territoires", "Consultante évaluation",
                     "contact@impact-territoires.example", "expert", "copil")  # fmt: skip
    r.create(
        p, start, "unapei",
        _person("Unapei (tête de réseau)", "Chargée de mission impact social",
                "pilote.impact-social@unapei.example", "pilot", "copil"),
        [("expert", expert)], territory="Auvergne-Rhône-Alpes, Bretagne, Pays de la Loire",
        agency=_person("Service gestionnaire du FSE", "Gestionnaire FSE", "gestion@fse.example",
                       "agency"),
    )  # fmt: skip
    # Phase 1: national framing and COPIL, call for regions, awareness workshops (a bit late).
    r.held(p, at(45), occurrence="copil_installation", note="CR COPIL national")
    r.done(p, at(60), "cadrage_national", "Note de cadrage national")
    regions = ("Auvergne-Rhône-Alpes", "Bretagne", "Pays de la Loire")
    r.join(p, at(110), [(f"region_{n}", _person(f"Unapei {region}", "Chargé·e de mission régional",
                                                f"mis.{n}@unapei-regions.example"))
                        for n, region in enumerate(regions, 1)])  # fmt: skip
    r.done(p, at(115), "regions_retenues", "3 Unapei Régions retenues")
    r.done(p, at(200), "ateliers_sensibilisation", "Ateliers tenus dans les 3 régions")
    r.advance(p, at(205), "start_experiments")
    # Phase 2: subjects chosen; one region's framing and regional COPIL are overdue.
    r.done(p, at(285), "choix_sujets", "Sujets retenus par les 3 régions")
    r.decide(p, at(285), "sujets_retenus", "Sujets de mesure retenus",
             "Chaque Unapei Région a choisi le sujet de son étude d'impact social.")  # fmt: skip
    r.indicator(p, r.ago(7), "copils_regionaux", "Copils régionaux installés", "process", 3, 2,
                "régions", "Copil régional en cours de constitution dans une région",
                "Appui de l'expert externe à la mobilisation des associations locales")  # fmt: skip
