"""What the notifications API answers."""

from pydantic import BaseModel, Field


class NotificationOut(BaseModel):
    id: int
    rule: str
    recipient: str
    subject: str
    status: str = Field(description="pending, sent ou failed")
    deadline: str | None
    created_at: str | None
    sent_at: str | None
    dossier_id: int | None
    attempts: int
    last_error: str | None = Field(None, description="Pour l'équipe seulement")


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    total: int


class PreferenceOut(BaseModel):
    rule: str
    label: str
    optional: bool
    enabled: bool


class PreferencePage(BaseModel):
    items: list[PreferenceOut]
    total: int
