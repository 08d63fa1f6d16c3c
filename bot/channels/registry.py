"""Which channels this process can send through, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.channels.simulator import SimulatorChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.twilio_sms import TwilioSmsChannel
from bot.settings import Settings


@dataclass
class Channels:
    """The configured channels; the simulator is always there for the console's simulator page."""

    simulator: SimulatorChannel = field(default_factory=SimulatorChannel)
    sms: TwilioSmsChannel | None = None
    telegram: TelegramChannel | None = None

    def by_name(self, name: str) -> SimulatorChannel | TwilioSmsChannel | TelegramChannel | None:
        return {"simulator": self.simulator, "sms": self.sms, "telegram": self.telegram}.get(name)


def build_channels(settings: Settings) -> Channels:
    return Channels(
        sms=TwilioSmsChannel(settings.twilio, settings.public_url) if settings.twilio else None,
        telegram=TelegramChannel(settings.telegram) if settings.telegram else None,
    )
