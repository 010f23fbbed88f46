"""The HTTP ceiling of bench/api_advance.py: the same stack (uvicorn, FastAPI, a sync endpoint
taking and returning JSON, run in the thread pool) with nothing behind it."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Step(BaseModel):
    trigger: str
    comment: str | None = None


@app.post("/api/projects/{project_id}/advance")
def advance(project_id: int, step: Step) -> dict[str, object]:
    return {"project_id": project_id, "trigger": step.trigger, "to_phase": "x", "version": 1}
