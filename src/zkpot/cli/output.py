"""How a command answers: one-sentence errors, ``--json`` or text, progress lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any

import click

from zkpot.cli.options import F
from zkpot.errors import ZkpotError

_verbose = {"on": False}
"""Set by ``zkpot --verbose``: tracebacks, ape's call traces and its log lines are shown."""


def _fail(sentence: str, exit_code: int = 1) -> None:
    if _verbose["on"]:
        import traceback

        traceback.print_exc()
    click.echo(f"error: {sentence}", err=True)
    sys.exit(exit_code)


def _unexpected_sentence(error: Exception) -> str:
    """One sentence for an error no zkpot code turned into one (a library's, a lost link)."""
    lines = str(error).strip().splitlines()
    detail = lines[0].rstrip(".:") if lines else ""
    if len(detail) > 200:
        detail = detail[:200] + "…"
    kind = type(error).__name__
    if isinstance(error, ConnectionError | TimeoutError) or "Connect" in kind:
        what = "Lost the connection to the chain or IPFS"
    elif any(c.__name__ == "ContractLogicError" for c in type(error).__mro__):
        what = "The contract rejected a call"
    else:
        what = f"Unexpected {kind}"
    return f"{what}" + (f" ({detail})" if detail else "") + (
        "." if _verbose["on"] else "; run again with `zkpot --verbose ...` for the traceback."
    )


INTERRUPTED = "Interrupted; run the same command again to resume."
TERMINATED = "Terminated; run the same command again to resume."


def friendly_errors(func: F) -> F:
    """Turn any error into one sentence on stderr and a non-zero exit.

    A :class:`ZkpotError` says what is wrong and what to do; anything else (a library's
    exception, a connection lost mid-command) is named in one sentence. With
    ``zkpot --verbose`` the traceback is printed first.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ZkpotError as error:
            _fail(error.sentence(), error.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            _fail(INTERRUPTED, 130)
        except SystemExit as stop:
            # Once imported, ape turns SIGINT and SIGTERM into SystemExit(130 / 143).
            if stop.code in (130, 143):
                _fail(INTERRUPTED if stop.code == 130 else TERMINATED, int(stop.code))
            raise
        except Exception as error:  # noqa: BLE001 - the CLI's last line: one sentence
            _fail(_unexpected_sentence(error))

    return wrapper  # type: ignore[return-value]


def _emit(data: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        text()


def _progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


class _Steps:
    """Progress of a command's long steps, each announced by a role's progress message.

    On a terminal each message becomes a `rich` line with a spinner and its elapsed time,
    ticked off when the next one starts; otherwise (stdout piped, or ``--json``) each is
    one plain line on stderr, as scripts and logs want it.
    """

    def __init__(self, as_json: bool = False) -> None:
        self.live = not as_json and sys.stdout.isatty() and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Steps:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(finished_text="[green]✓[/]"),
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                TextColumn("{task.fields[amount]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._progress.start()
        return self

    def __call__(self, message: str) -> None:
        if self._progress is None:
            _progress(message)
            return
        self._finish_current()
        self._task = self._progress.add_task(message, total=None, amount="")

    def meter(self, name: str, total: int) -> Callable[[int], None]:
        """Turn the current step into a byte bar of ``total`` bytes; its advance callback."""
        del name  # the step's own message already names the transfer
        if self._progress is None or self._task is None:
            return lambda _: None
        task, progress, mib = self._task, self._progress, 1024 * 1024
        progress.update(task, total=total, completed=0, amount=f"0/{total / mib:.1f} MiB")
        done = [0]

        def advance(count: int) -> None:
            done[0] += count
            progress.update(task, completed=done[0],
                            amount=f"{done[0] / mib:.1f}/{total / mib:.1f} MiB")

        return advance

    def _finish_current(self) -> None:
        if self._task is not None:
            total = next(t.total for t in self._progress.tasks if t.id == self._task)
            self._progress.update(self._task, total=total or 1, completed=total or 1)
            self._task = None

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            if exc[0] is None:
                self._finish_current()
            self._progress.stop()


def _utc(timestamp: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _hex32(value: bytes) -> str | None:
    """0x-hex of a bytes32, or ``None`` for the zero value (not set yet)."""
    return "0x" + value.hex() if any(value) else None


def _address_or_none(address: str) -> str | None:
    return address if address and int(address, 16) != 0 else None


def _record_json(record: Any) -> dict[str, Any]:
    data = asdict(record)
    data["salt"] = "(secret)"
    data["step"] = record.step.name.lower()
    data["intent"] = record.intent.name.lower() if record.intent is not None else None
    return data
