"""CNI errors: what a failed call prints on stdout ({"cniVersion", "code", "msg", "details"}). Done for you.

Codes 1-99 are the spec's; a plugin's own start at 100.
"""

from __future__ import annotations

CODE_INCOMPATIBLE_VERSION = 1
CODE_INVALID_ENV = 4
CODE_DECODE = 6
CODE_INVALID_CONFIG = 7
CODE_NOT_AVAILABLE = 50  # STATUS: ADD would fail now (e.g. no free address)
CODE_NOT_IMPLEMENTED = 100
CODE_RANGE_EXHAUSTED = 102
CODE_CHECK_FAILED = 103
CODE_COMMAND_FAILED = 104  # a command the plugin ran (ip, iptables...) failed


class CniError(Exception):
    def __init__(self, code: int, msg: str, details: str = "") -> None:
        super().__init__(msg)
        self.code, self.msg, self.details = code, msg, details


def not_implemented(what: str, where: str = "plugin.py") -> CniError:
    return CniError(CODE_NOT_IMPLEMENTED, f"not implemented: {what}", f"fill in the TODOs in student_cni/{where}")
