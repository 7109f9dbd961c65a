"""Reminders and event messages: rules as data, the outbox, SMTP delivery, templates."""
