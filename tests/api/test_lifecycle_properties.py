"""Random sequences of transitions fired by random roles never reach a state the table forbids,
the history always tells the state, and nothing answers 500."""

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tests.api.helpers import AGENTS, Actor, complete_draft
from workflows.dossier import AVIS, STATES, TRANSITIONS, allowed_next

ACTORS = [
    "porteur@demo.aap.test",
    "porteur2@demo.aap.test",
    "instructeur@demo.aap.test",
    "admin@demo.aap.test",
    *AGENTS.values(),
]
NAMES = [t.name for t in TRANSITIONS]
OK_STATUSES = {200, 403, 404, 409, 422}


def payloads() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "comment": st.sampled_from(["", "Merci de préciser le budget.", "Bilan conforme."]),
            "due_date": st.sampled_from([(date.today() + timedelta(days=d)).isoformat() for d in (-1, 7)]),
            "avis": st.sampled_from([*AVIS, "peut-etre"]),
        },
    )


def test_random_walks_respect_the_lifecycle_table(client: TestClient, demo) -> None:
    actors = {email: Actor(client, email) for email in ACTORS}
    porteur = actors["porteur@demo.aap.test"]

    class Walk(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            # a fresh copy of a complete demo dossier, deposed, for each walk
            source = complete_draft(porteur)
            campaign_id = source["campaign_id"]
            answers = porteur.get(f"/api/v1/dossiers/{source['id']}").json()["answers"]
            created = porteur.post(f"/api/v1/campaigns/{campaign_id}/dossiers", json={"answers": answers})
            assert created.status_code == 201, created.text
            self.id, self.state = created.json()["id"], "brouillon"

        @rule(name=st.sampled_from(NAMES), who=st.sampled_from(ACTORS), body=payloads())
        def fire(self, name: str, who: str, body: dict[str, Any]) -> None:
            response = actors[who].fire(self.id, name, **body)
            assert response.status_code in OK_STATUSES, response.text
            if response.status_code == 200:
                new = response.json()["state"]
                allowed = allowed_next(self.state)
                if "avise" in allowed:  # decisions taken before the avis program the dossier at once
                    allowed |= {"programme", "rejete"}
                assert new in allowed, (self.state, name, new)
                self.state = new
            else:
                assert response.json()["detail"]["message"]

        @rule(
            who=st.sampled_from(list(AGENTS.values())),
            decision=st.sampled_from(["accorde", "refuse", "ajourne"]),
            amount=st.sampled_from(["1.00", "999999.00"]),
        )
        def decide(self, who: str, decision: str, amount: str) -> None:
            code = next(c for c, e in AGENTS.items() if e == who)
            body = {"decision": decision, "montant": amount, "motif": "Hors priorités de l'année."}
            response = actors[who].post(
                f"/api/v1/dossiers/{self.id}/cofinancements/{code}/decision", json=body
            )
            assert response.status_code in OK_STATUSES, response.text
            if response.status_code == 200:
                new = response.json()["state"]
                assert new == self.state or (self.state == "avise" and new in {"programme", "rejete"})
                self.state = new

        @rule(amount=st.sampled_from(["0.00", "100.00", "99999999.00"]))
        def propose_all(self, amount: str) -> None:
            instructeur = actors["instructeur@demo.aap.test"]
            for line in instructeur.get(f"/api/v1/dossiers/{self.id}").json().get("cofinancements", []):
                r = instructeur.post(
                    f"/api/v1/dossiers/{self.id}/cofinancements/{line['financeur']}/proposition",
                    json={"montant": amount},
                )
                assert r.status_code in OK_STATUSES, r.text

        @invariant()
        def history_tells_the_state(self) -> None:
            dossier = porteur.get(f"/api/v1/dossiers/{self.id}").json()
            assert dossier["state"] == self.state and dossier["state"] in STATES
            steps = porteur.get(f"/api/v1/dossiers/{self.id}/history").json()["items"]
            assert steps[-1]["to"] == self.state
            moves = [s for s in steps if s["transition"] != "decision_financeur"]
            assert all(a["to"] == b["from"] for a, b in zip(moves, moves[1:], strict=False))

    run_state_machine_as_test(
        Walk,
        settings=settings(
            max_examples=12,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
