"""The kit's own exception: bad input that the user can fix (one line, exit status 2)."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2, no traceback."""


class Interrupted(Exception):
    """Training stopped on purpose (--interrupt-after), as a crash would: resume with --resume."""

    def __init__(self, run: str, step: int, max_steps: int):
        self.run, self.step, self.max_steps = run, step, max_steps
        super().__init__(f"interrupted at step {step} of {max_steps} ({run}), as "
                         f"--interrupt-after asked; continue with the same flags plus --resume")
