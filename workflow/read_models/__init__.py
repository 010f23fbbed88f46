"""What people read, as dataclasses: one module per view, shared by the pages, the API and
the CLI (none of them runs SQL of its own for display).

- :mod:`~workflow.read_models.portfolio`: the agency's dashboard (projects, overdue
  milestones, missing reports, meetings ahead, counts per phase), paginated in SQL;
- :mod:`~workflow.read_models.board`: one project's *tableau de bord* (the project page);
- :mod:`~workflow.read_models.annual`: one project's annual report (seed 000, CPOM);
- :mod:`~workflow.read_models.detail`: one project as data (API, ``copilote project show``)
  and the list of projects.

What is late, and whether a project is in progress, is decided in :mod:`workflow.progress`.
Words are not made here: labels come from the definitions, sentences from
``notifications.wording`` and the templates.
"""
