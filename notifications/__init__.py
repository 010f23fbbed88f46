"""Notifications: templates (fr, en), rendering, calendar invitations and email delivery.

This package knows templates and SMTP, not project rules: callers tell it what to send.
"""

from .calendar import build_ics, ics_attachment
from .mailer import DeliveryResult, FileMailer, Mailer, RecordingMailer, SmtpMailer
from .message import Attachment, InvalidAddress, OutgoingMessage, Recipient, build_email
from .render import Rendered, Renderer, RenderError, UnknownLanguage, UnknownTemplate

__all__ = [
    "Attachment",
    "DeliveryResult",
    "FileMailer",
    "InvalidAddress",
    "Mailer",
    "OutgoingMessage",
    "Recipient",
    "RecordingMailer",
    "RenderError",
    "Rendered",
    "Renderer",
    "SmtpMailer",
    "UnknownLanguage",
    "UnknownTemplate",
    "build_email",
    "build_ics",
    "ics_attachment",
]
