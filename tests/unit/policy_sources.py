"""The sources the policy tests judge reports by, with their grades (one ungraded)."""

from __future__ import annotations

from events.policy import SourceInfo
from events.vocabulary import Reliability

SOURCES = {
    "mfa": SourceInfo("mfa", "Russian Foreign Ministry", Reliability.C),
    "outlets": SourceInfo("outlets", "several news outlets", Reliability.F),
    "pentagon": SourceInfo("pentagon", "Pentagon", Reliability.B),
    "bi": SourceInfo("bi", "Business Insider", Reliability.B),
    "cnn": SourceInfo("cnn", "CNN", Reliability.B),
    "social": SourceInfo("social", "Russian social media", Reliability.E),
    "kremlin": SourceInfo("kremlin", "Kremlin", Reliability.C),
    "wire": SourceInfo("wire", "A wire service", Reliability.A),
    "ungraded": SourceInfo("ungraded", "An unknown blog", None),
    # The Derna flood (2023)
    "ocha": SourceInfo("ocha", "UN OCHA", Reliability.A),
    "lrc": SourceInfo("lrc", "Libyan Red Crescent", Reliability.C),
    "mayor": SourceInfo("mayor", "the mayor of Derna", Reliability.D),
    "aljazeera": SourceInfo("aljazeera", "Al Jazeera", Reliability.C),
}
