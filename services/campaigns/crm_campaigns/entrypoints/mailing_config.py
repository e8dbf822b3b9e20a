"""One way to run a mailing that the API and the worker share, with the campaigns settings (crm_campaigns/config.py:
`PUBLIC_BASE_URL`, `MAILING_LINK_SECRET`, `MAILING_HOME_COUNTRY`, `MAILINGS_INLINE`, the `SMTP_*` server)."""
from __future__ import annotations

from crm_campaigns.adapters.smtp_sender import SmtpSender
from crm_campaigns.config import CampaignsSettings
from crm_campaigns.domain.unsubscribe_links import UnsubscribeLinks
from crm_campaigns.service_layer.mailings import SendOutcome, send_mailing


def unsubscribe_links(settings: CampaignsSettings) -> UnsubscribeLinks:
    secret = settings.mailing_link_secret or settings.jwt.secret
    if not secret:
        raise ValueError("MAILING_LINK_SECRET must be set: unsubscribe links are signed with it")
    return UnsubscribeLinks(settings.public_base_url, secret.encode())


def run_send(uow_factory, settings: CampaignsSettings, mailing_id: str) -> SendOutcome:
    """Sends the mailing with the configured SMTP server and links."""
    return send_mailing(uow_factory, SmtpSender(settings.smtp), mailing_id, unsubscribe_links(settings))
