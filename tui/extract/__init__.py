"""OTP and verification-link extraction: pure functions, no I/O, no Textual.

>>> ex = analyze_parts(subject="Your code", text="Your verification code is 482193.")
>>> ex.otp
'482193'
"""

from tui.extract.baseline import server_style_extract
from tui.extract.core import analyze_message, analyze_parts, clean_subject, report
from tui.extract.decode import attachment_parts
from tui.extract.guess import GuessVerdict, judge_server_guess
from tui.extract.model import Attachment, Candidate, Extraction
from tui.extract.report import format_report

__all__ = [
    "Attachment",
    "Candidate",
    "Extraction",
    "GuessVerdict",
    "analyze_message",
    "analyze_parts",
    "attachment_parts",
    "clean_subject",
    "format_report",
    "judge_server_guess",
    "report",
    "server_style_extract",
]
