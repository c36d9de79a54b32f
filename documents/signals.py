"""Logging out closes that browser's open sockets; a user changed in the admin, and what
allauth's own pages change on an account, are audited."""

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import broadcast
from .selectors import session_public_id


@receiver(user_logged_out)
def close_sockets_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Only this browser's: the account's other sessions (its profile lists them) stay signed in."""
    if user is None:
        return
    key = getattr(getattr(request, "session", None), "session_key", None)
    broadcast.publish_session_end(user_id=user.pk, session=session_public_id(key) if key else None)


@receiver(post_save, sender=LogEntry)
def audit_user_changes_in_admin(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """The admin logs each add, change and delete it makes; those of users go to the audit log."""
    model = get_user_model()
    if not created or instance.content_type is None or instance.content_type.model_class() is not model:
        return
    from .models import AuditAction
    from .services import audit

    subject = model.objects.filter(pk=instance.object_id).first()
    audit.record(
        actor=instance.user,
        action=AuditAction.USER_CHANGED,
        subject=subject,
        user=instance.object_repr if subject is None else subject.get_username(),
        change=instance.get_change_message() or instance.get_action_flag_display(),
    )


def _report(action: str, **ids: Any) -> Any:
    """A receiver telling `services.account_changed` what allauth just wrote, by ids only."""

    def receiver(sender: Any, user: Any = None, **kwargs: Any) -> None:
        from .models import AuditAction
        from .services import account_changed

        details = {name: getattr(kwargs.get(arg), "pk", None) for name, arg in ids.items()}
        if user is None:  # email_confirmed and social_account_removed name the row, not the user
            row = kwargs.get("email_address") or kwargs.get("socialaccount")
            user = getattr(row, "user", None)
        account_changed(user=user, action=AuditAction(action), **details)

    return receiver


def _connect_allauth() -> None:
    from allauth.account import signals as account
    from allauth.mfa import signals as mfa
    from allauth.socialaccount import signals as social

    # weak=False: the receivers are made here and kept only by the signals.
    for signal, action, ids in (
        (account.email_added, "email_added", {"address": "email_address"}),
        (account.email_removed, "email_removed", {"address": "email_address"}),
        (account.email_confirmed, "email_confirmed", {"address": "email_address"}),
        (account.email_changed, "primary_email_changed", {"address": "to_email_address"}),
        (mfa.authenticator_added, "second_factor_added", {"authenticator": "authenticator"}),
        (mfa.authenticator_removed, "second_factor_removed", {"authenticator": "authenticator"}),
        (mfa.authenticator_reset, "recovery_codes_reset", {"authenticator": "authenticator"}),
        (social.social_account_removed, "sso_disconnected", {"account": "socialaccount"}),
    ):
        signal.connect(_report(action, **ids), weak=False, dispatch_uid=f"collab-{action}")
    social.social_account_added.connect(_sso_connected, weak=False, dispatch_uid="collab-sso_connected")


def _sso_connected(sender: Any, request: Any, sociallogin: Any, **kwargs: Any) -> None:
    from .models import AuditAction
    from .services import account_changed

    account_changed(user=sociallogin.user, action=AuditAction.SSO_CONNECTED, account=sociallogin.account.pk)


_connect_allauth()
